import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportJWK, importJWK, SignJWT } from 'jose';
import { createResourceServer } from '../../src/resource/resource-server.ts';
import { VerifierUnavailableError, type Principal, type VerifyResult } from '../../src/resource/types.ts';
import { createStytchVerifier, stytchBaseUrl, stytchIssuers, type StytchVerifierOptions } from '../../src/resource/verifiers/stytch.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { createConnectedAppsFixture } from '../fixtures/stytch/connected-apps.ts';
import { createStytchProject } from '../fixtures/stytch/project.ts';
import { parseChallenge } from './fixtures.ts';

const DOMAIN = 'https://rustic-kilogram-6347.customers.stytch.dev';
const reason = (r: VerifyResult) => (r.ok ? 'ok' : r.reason);

async function setup(options: Partial<StytchVerifierOptions> = {}) {
  const clock = new ManualClock(Date.UTC(2026, 2, 1));
  const project = createStytchProject(DOMAIN);
  const fixture = await createConnectedAppsFixture({ project, clock });
  const verifier = createStytchVerifier({ projectId: project.projectId, projectDomain: DOMAIN, secret: project.secret, fetch: fixture.fetch, clock, ...options });
  return { clock, project, fixture, verifier };
}

describe('Stytch verifier (seed-systems §4.2, §5.1)', () => {
  it('base URL and issuers as the SDK derives them: project domain, or test/live API host by project id', () => {
    const test = 'project-test-6f1e2d3c-0000-4000-8000-000000000001';
    const live = 'project-live-6f1e2d3c-0000-4000-8000-000000000001';
    assert.equal(stytchBaseUrl({ projectId: test }), 'https://test.stytch.com/');
    assert.equal(stytchBaseUrl({ projectId: live }), 'https://api.stytch.com/');
    assert.equal(stytchBaseUrl({ projectId: test, projectDomain: DOMAIN }), `${DOMAIN}/`);
    assert.equal(stytchBaseUrl({ projectId: test, customBaseUrl: `${DOMAIN}/` }), `${DOMAIN}/`);
    assert.deepEqual(stytchIssuers({ projectId: test, projectDomain: `${DOMAIN}/` }), [`stytch.com/${test}`, DOMAIN]);
    assert.deepEqual(stytchIssuers({ projectId: live }), [`stytch.com/${live}`, 'https://api.stytch.com']);
  });

  it('refuses a plain-http project domain, a malformed project id, or two different domains', () => {
    const projectId = 'project-test-6f1e2d3c-0000-4000-8000-000000000001';
    assert.throws(() => createStytchVerifier({ projectId, projectDomain: 'http://x.customers.stytch.dev' }), /https/);
    assert.throws(() => createStytchVerifier({ projectId: 'public-token-test-123' }), /projectId/);
    assert.throws(() => createStytchVerifier({ projectId, projectDomain: DOMAIN, customBaseUrl: 'https://other.example' }), /not both/);
  });

  it('fetches keys from <base>/v1/sessions/jwks/<project_id> and maps client_id (not aud) to clientId', async () => {
    const { fixture, project, verifier } = await setup();
    const result = await verifier.verify(await fixture.mintAccessToken({ claims: { scope: 'openid read:tasks', client_id: 'connected-app-test-abc' } }));
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.token.clientId, 'connected-app-test-abc');
    assert.deepEqual(result.token.scopes, ['openid', 'read:tasks']);
    assert.match(result.token.subject, /^user-test-/);
    assert.deepEqual(fixture.requests, [`GET /v1/sessions/jwks/${project.projectId}`]);
  });

  it('RS256 only: a token signed with another algorithm is refused even with a matching key', async () => {
    const { fixture, verifier } = await setup({ cache: false });
    const [, payload] = (await fixture.mintAccessToken()).split('.') as [string, string];
    const { alg: _alg, ...jwk } = await exportJWK(fixture.currentKey.privateKey);
    const pss = await importJWK(jwk, 'PS256');
    const token = await new SignJWT(JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>)
      .setProtectedHeader({ alg: 'PS256', typ: 'JWT', kid: fixture.currentKey.kid })
      .sign(pss);
    assert.equal(reason(await verifier.verify(token)), 'alg_not_allowed');
  });

  it('strict mode (MCP RS-08): aud must also name this resource', async () => {
    const { fixture, project, verifier } = await setup({ resourceAudience: 'https://mcp.example/mcp', cache: false });
    assert.equal(reason(await verifier.verify(await fixture.mintAccessToken())), 'wrong_audience');
    assert.equal(reason(await verifier.verify(await fixture.mintAccessToken({ claims: { aud: [project.projectId, 'https://mcp.example/mcp'] } }))), 'ok');
    assert.equal(reason(await verifier.verify(await fixture.mintAccessToken({ claims: { aud: ['https://mcp.example/mcp'] } }))), 'wrong_audience', 'the project id stays required');
  });

  it('key rotation: a token signed with a new project key verifies after one JWKS refetch', async () => {
    const { fixture, verifier, clock } = await setup();
    assert.ok((await verifier.verify(await fixture.mintAccessToken())).ok);
    await fixture.rotateKey();
    clock.advance(30_000);
    assert.ok((await verifier.verify(await fixture.mintAccessToken())).ok);
    assert.equal(fixture.requests.filter((r) => r.startsWith('GET /v1/sessions/jwks/')).length, 2);
  });

  describe('RBAC (authorization_check)', () => {
    const authenticate = async (rs: ReturnType<typeof createResourceServer>, token: string): Promise<Principal> => {
      const principal = await rs.authenticate(new Request('https://mcp.example/mcp', { headers: { Authorization: `Bearer ${token}` } }));
      assert.ok(!(principal instanceof Response));
      return principal;
    };

    it('403 insufficient_scope names the narrowest policy scope granting the permission', async () => {
      const { fixture, verifier } = await setup();
      const rs = createResourceServer({ resource: 'https://mcp.example/mcp', authorizationServers: [DOMAIN], verifier });
      const reader = await authenticate(rs, await fixture.mintAccessToken({ claims: { scope: 'read:tasks' } }));
      assert.equal(await rs.requirePermission(reader, { resourceId: 'tasks', action: 'read' }), null);
      const refusal = await rs.requirePermission(reader, { resourceId: 'tasks', action: 'write' });
      assert.equal(refusal?.status, 403);
      const { params } = parseChallenge(refusal!.headers.get('WWW-Authenticate'));
      assert.equal(params['error'], 'insufficient_scope');
      assert.equal(params['scope'], 'write:tasks', 'not manage:tasks, which grants more');
      assert.equal(params['resource_metadata'], 'https://mcp.example/.well-known/oauth-protected-resource/mcp');
    });

    it('the policy is fetched with HTTP Basic project_id:secret and cached for five minutes', async () => {
      const { fixture, verifier, clock } = await setup();
      const policyFetches = () => fixture.requests.filter((r) => r === 'GET /v1/rbac/policy').length;
      const check = { resourceId: 'tasks', action: 'read' };
      assert.deepEqual(await verifier.permissions?.scopesGranting(check), ['read:tasks', 'write:tasks', 'manage:tasks']);
      clock.advance(299_000);
      await verifier.permissions?.scopesGranting(check);
      assert.equal(policyFetches(), 1);
      fixture.setPolicy({ roles: [], resources: [], scopes: [] });
      clock.advance(1_000);
      assert.deepEqual(await verifier.permissions?.scopesGranting(check), []);
      assert.equal(policyFetches(), 2);
    });

    it('a wrong secret makes RBAC unavailable (503), it does not grant or deny', async () => {
      const { fixture, verifier } = await setup({ secret: 'secret-test-wrong' });
      await assert.rejects(verifier.permissions!.scopesGranting({ resourceId: 'tasks', action: 'read' }), VerifierUnavailableError);
      const rs = createResourceServer({ resource: 'https://mcp.example/mcp', authorizationServers: [DOMAIN], verifier });
      const principal = await authenticate(rs, await fixture.mintAccessToken({ claims: { scope: 'read:tasks' } }));
      assert.equal((await rs.requirePermission(principal, { resourceId: 'tasks', action: 'read' }))?.status, 503);
    });

    it('without the secret there is no permission policy, and requirePermission says how to get one', async () => {
      const { fixture, verifier } = await setup({ secret: undefined });
      assert.equal(verifier.permissions, undefined);
      const rs = createResourceServer({ resource: 'https://mcp.example/mcp', authorizationServers: [DOMAIN], verifier });
      const principal = await authenticate(rs, await fixture.mintAccessToken());
      await assert.rejects(rs.requirePermission(principal, { resourceId: 'tasks', action: 'read' }), /secret/);
    });
  });
});
