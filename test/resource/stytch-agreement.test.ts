/**
 * Agreement matrix: the official `stytch` SDK's `idp.introspectTokenLocal` (run unmodified in a child
 * process, against the Connected Apps fixture served over https) and our `createStytchVerifier`
 * must accept and refuse the same tokens, and both must match what Stytch documents
 * (seed-systems.md §5.1). RBAC rows compare the SDK's `authorization_check` with `requirePermission`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, importJWK, SignJWT } from 'jose';
import { createResourceServer } from '../../src/resource/resource-server.ts';
import type { TokenVerifier } from '../../src/resource/types.ts';
import { createStytchVerifier } from '../../src/resource/verifiers/stytch.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { createConnectedAppsFixture, type ConnectedAppsFixture, type MintOptions } from '../fixtures/stytch/connected-apps.ts';
import { createTestCertificate, listenHttps, type HttpsListener, type TestCertificate } from '../fixtures/stytch/https.ts';
import { createStytchSigningKey, hs256Jwt, unsignedJwt, type StytchSigningKey } from '../fixtures/stytch/keys.ts';
import { createStytchProject, type StytchProject } from '../fixtures/stytch/project.ts';
import { introspectWithStytchSdk, type SdkCase, type SdkOutcome } from '../fixtures/stytch/sdk.ts';
import { createStytchB2BFixture, stytchOrganization, type StytchB2BFixture } from '../fixtures/stytch/b2b.ts';
import { introspectWithStytchB2BSdk, type B2BSdkCase } from '../fixtures/stytch/sdk-b2b.ts';

interface Row {
  name: string;
  token: () => Promise<string>;
  accepted: boolean;
  clockToleranceSeconds?: number;
}

const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const nowSeconds = NOW / 1000;

describe('Stytch Connected Apps tokens: our stytch verifier agrees with the stytch SDK (seed-systems §5.1)', () => {
  const clock = new ManualClock(NOW);
  let certificate: TestCertificate;
  let listener: HttpsListener;
  let project: StytchProject;
  let fixture: ConnectedAppsFixture;
  let foreignKey: StytchSigningKey;
  const mint = (options?: MintOptions) => fixture.mintAccessToken(options);

  before(async () => {
    certificate = await createTestCertificate();
    listener = await listenHttps((request) => fixture.app.fetch(request), certificate);
    project = createStytchProject(listener.origin);
    fixture = await createConnectedAppsFixture({ project, clock });
    foreignKey = await createStytchSigningKey();
  });
  after(async () => {
    await listener?.close();
    await certificate?.dispose();
  });

  const verifierWith = (clockToleranceSeconds?: number): TokenVerifier =>
    createStytchVerifier({ projectId: project.projectId, projectDomain: project.baseUrl, secret: project.secret, fetch: fixture.fetch, clock, cache: false, clockToleranceSeconds });

  const rows: Row[] = [
    { name: 'a Connected Apps access token', accepted: true, token: () => mint() },
    { name: 'iss stytch.com/<project_id> (obtained through the legacy API host)', accepted: true, token: () => mint({ claims: { iss: `stytch.com/${project.projectId}` } }) },
    { name: 'aud the project id as a string', accepted: true, token: () => mint({ claims: { aud: project.projectId } }) },
    { name: 'aud an array containing the project id and a custom audience', accepted: true, token: () => mint({ claims: { aud: ['https://mcp.example/mcp', project.projectId] } }) },
    { name: 'typ application/jwt (same media type)', accepted: true, token: () => mint({ header: { typ: 'application/jwt' } }) },
    { name: 'no nbf', accepted: true, token: () => mint({ claims: { nbf: undefined } }) },
    { name: 'B2B organization claim', accepted: true, token: () => mint({ organization: { organization_id: 'organization-test-1', slug: 'acme' } }) },
    { name: 'expired', accepted: false, token: () => mint({ claims: { iat: nowSeconds - 7200, nbf: nowSeconds - 7200, exp: nowSeconds - 3600 } }) },
    { name: 'expiring this very second (exp = now)', accepted: false, token: () => mint({ claims: { exp: nowSeconds } }) },
    { name: 'expired 30 s ago, within a 60 s clock tolerance', accepted: true, clockToleranceSeconds: 60, token: () => mint({ claims: { exp: nowSeconds - 30 } }) },
    { name: 'nbf in the future', accepted: false, token: () => mint({ claims: { nbf: nowSeconds + 60 } }) },
    { name: 'wrong iss (another project domain)', accepted: false, token: () => mint({ claims: { iss: 'https://other-project-1234.customers.stytch.dev' } }) },
    { name: 'iss with a trailing slash', accepted: false, token: () => mint({ claims: { iss: `${project.baseUrl}/` } }) },
    { name: 'iss stytch.com/<another project>', accepted: false, token: () => mint({ claims: { iss: 'stytch.com/project-test-00000000-0000-0000-0000-000000000000' } }) },
    { name: 'wrong aud (another project)', accepted: false, token: () => mint({ claims: { aud: ['project-test-00000000-0000-0000-0000-000000000000'] } }) },
    { name: 'no aud', accepted: false, token: () => mint({ claims: { aud: undefined } }) },
    { name: 'typ at+jwt', accepted: false, token: () => mint({ header: { typ: 'at+jwt' } }) },
    { name: 'no typ', accepted: false, token: () => mint({ header: { typ: undefined } }) },
    {
      name: 'alg none',
      accepted: false,
      token: async () => {
        const [header, payload] = (await mint()).split('.') as [string, string];
        return unsignedJwt(decode(header), decode(payload));
      },
    },
    {
      name: 'HS256 signed with the public key (algorithm confusion)',
      accepted: false,
      token: async () => {
        const [header, payload] = (await mint()).split('.') as [string, string];
        return hs256Jwt(decode(header), decode(payload), fixture.currentKey.publicPem);
      },
    },
    {
      name: 'PS256 signed with the project key (the JWKS says RS256)',
      accepted: false,
      token: async () => {
        const [, payload] = (await mint()).split('.') as [string, string];
        const { alg: _alg, ...jwk } = await exportJWK(fixture.currentKey.privateKey);
        return new SignJWT(decode(payload)).setProtectedHeader({ alg: 'PS256', typ: 'JWT', kid: fixture.currentKey.kid }).sign(await importJWK(jwk, 'PS256'));
      },
    },
    { name: 'unknown kid (a key the project never published)', accepted: false, token: () => mint({ key: foreignKey }) },
    { name: 'signed by a foreign key under the project key id', accepted: false, token: () => mint({ key: foreignKey, header: { kid: fixture.currentKey.kid } }) },
    {
      name: 'claims changed under the original signature',
      accepted: false,
      token: async () => {
        const [header, payload, signature] = (await mint({ claims: { scope: 'read:tasks' } })).split('.') as [string, string, string];
        const forged = Buffer.from(JSON.stringify({ ...decode(payload), scope: 'manage:tasks' })).toString('base64url');
        return `${header}.${forged}.${signature}`;
      },
    },
    { name: 'garbage', accepted: false, token: async () => 'not-a-jwt' },
  ];

  it('every row: both accept or both refuse, as documented', async () => {
    const tokens = await Promise.all(rows.map((r) => r.token()));
    const sdk = await runSdk(rows.map((r, i) => ({ name: r.name, token: tokens[i]!, clockToleranceSeconds: r.clockToleranceSeconds })));
    const table: string[] = [];
    for (const [i, row] of rows.entries()) {
      const ours = await verifierWith(row.clockToleranceSeconds).verify(tokens[i]!);
      const theirs = sdk[i]!;
      table.push(`${row.name}: sdk ${theirs.accepted ? 'accepts' : `refuses (${(theirs as { error: string }).error})`}, ours ${ours.ok ? 'accepts' : `refuses (${ours.reason})`}`);
      assert.equal(theirs.accepted, row.accepted, `SDK on "${row.name}"\n${table.join('\n')}`);
      assert.equal(ours.ok, row.accepted, `ours on "${row.name}"\n${table.join('\n')}`);
    }
  });

  it('an accepted token maps to the same subject and scope, and clientId is the client_id claim (not aud)', async () => {
    const token = await mint({ claims: { scope: 'openid read:tasks' } });
    const [theirs] = await runSdk([{ name: 'good', token }]);
    const ours = await verifierWith().verify(token);
    assert.ok(theirs?.accepted && ours.ok);
    assert.equal(ours.token.subject, theirs.subject);
    assert.equal(ours.token.scopes.join(' '), theirs.scope);
    assert.equal(ours.token.clientId, theirs.clientId);
    assert.match(ours.token.clientId, /^connected-app-test-/);
  });

  it('RBAC: requirePermission decides as the SDK\'s authorization_check, including the * wildcard', async () => {
    const checks: { name: string; scope: string; check: { resource_id: string; action: string } }[] = [
      { name: 'read:tasks may read tasks', scope: 'openid read:tasks', check: { resource_id: 'tasks', action: 'read' } },
      { name: 'read:tasks may not write tasks', scope: 'read:tasks', check: { resource_id: 'tasks', action: 'write' } },
      { name: 'write:tasks may read tasks', scope: 'write:tasks', check: { resource_id: 'tasks', action: 'read' } },
      { name: 'manage:tasks may delete tasks (*)', scope: 'manage:tasks', check: { resource_id: 'tasks', action: 'delete' } },
      { name: 'OIDC scopes grant no permission', scope: 'openid email profile', check: { resource_id: 'tasks', action: 'read' } },
      { name: 'write:tasks grants nothing on another resource', scope: 'write:tasks', check: { resource_id: 'notes', action: 'read' } },
      { name: 'a scope missing from the policy grants nothing', scope: 'admin:everything', check: { resource_id: 'tasks', action: 'read' } },
    ];
    const tokens = await Promise.all(checks.map((c) => mint({ claims: { scope: c.scope } })));
    const sdk = await runSdk(checks.map((c, i) => ({ name: c.name, token: tokens[i]!, authorizationCheck: c.check })));
    const rs = createResourceServer({ resource: 'https://mcp.example/mcp', authorizationServers: [project.baseUrl], verifier: verifierWith() });
    for (const [i, c] of checks.entries()) {
      const principal = await rs.authenticate(new Request('https://mcp.example/mcp', { headers: { Authorization: `Bearer ${tokens[i]}` } }));
      assert.ok(!(principal instanceof Response), c.name);
      const refusal = await rs.requirePermission(principal, { resourceId: c.check.resource_id, action: c.check.action });
      const theirs = sdk[i]!;
      assert.equal(refusal === null, theirs.accepted, `${c.name}: sdk ${JSON.stringify(theirs)}, ours ${refusal?.status ?? 'allowed'}`);
      if (!theirs.accepted) assert.equal(theirs.error, 'invalid_permissions', c.name);
      if (refusal) assert.equal(refusal.status, 403);
    }
  });

  it('documented divergence: we also refuse tokens without exp or client_id (e.g. Stytch session JWTs), which the SDK accepts', async () => {
    const noExp = await mint({ claims: { exp: undefined } });
    const sessionJwt = await mint({ claims: { client_id: undefined, scope: undefined, 'https://stytch.com/session': { id: 'session-test-1' } } });
    const sdk = await runSdk([
      { name: 'no exp', token: noExp },
      { name: 'session JWT', token: sessionJwt },
    ]);
    assert.deepEqual(sdk.map((o) => o.accepted), [true, true], 'the SDK accepts both');
    const verifier = verifierWith();
    for (const token of [noExp, sessionJwt]) {
      const ours = await verifier.verify(token);
      assert.equal(ours.ok === false && ours.reason, 'missing_claim');
    }
  });

  function runSdk(cases: SdkCase[]): Promise<SdkOutcome[]> {
    return introspectWithStytchSdk({ projectId: project.projectId, secret: project.secret, baseUrl: project.baseUrl, now: clock.now(), cases }, certificate.certPath);
  }
});

function decode(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * Stytch B2B (issue 11 part 5): the SDK's `B2BClient.idp.introspectTokenLocal` and our verifier with
 * `b2b: true` agree on organization-scoped tokens, and `requirePermission` with the organization
 * decides as the B2B `authorization_check` (tenancy first, then the token's scopes).
 */
describe('Stytch B2B tokens: our stytch verifier (b2b) agrees with the SDK\'s B2BClient', () => {
  const clock = new ManualClock(NOW);
  let certificate: TestCertificate;
  let listener: HttpsListener;
  let project: StytchProject;
  let fixture: StytchB2BFixture;
  const acme = stytchOrganization('acme');
  const globex = stytchOrganization('globex');

  before(async () => {
    certificate = await createTestCertificate();
    listener = await listenHttps((request) => fixture.app.fetch(request), certificate);
    project = createStytchProject(listener.origin);
    fixture = await createStytchB2BFixture({ project, clock });
  });
  after(async () => {
    await listener?.close();
    await certificate?.dispose();
  });

  const b2bVerifier = (): TokenVerifier =>
    createStytchVerifier({ projectId: project.projectId, projectDomain: project.baseUrl, secret: project.secret, fetch: fixture.fetch, clock, cache: false, b2b: true });
  const runSdk = (cases: B2BSdkCase[]) => introspectWithStytchB2BSdk({ projectId: project.projectId, secret: project.secret, baseUrl: project.baseUrl, now: clock.now(), cases }, certificate.certPath);

  it('member tokens are accepted with their organization; tokens without one (consumer tokens) are refused by both', async () => {
    const rows = [
      { name: 'a member token of acme', accepted: true, token: await fixture.mintMemberToken(acme, { scope: 'openid read:okrs' }) },
      { name: 'a member token, iss stytch.com/<project_id>', accepted: true, token: await fixture.mintMemberToken(globex, { claims: { iss: `stytch.com/${project.projectId}` } }) },
      { name: 'a consumer token (no organization claim)', accepted: false, token: await fixture.mintAccessToken() },
      { name: 'a member token, expired', accepted: false, token: await fixture.mintMemberToken(acme, { claims: { exp: nowSeconds - 60 } }) },
    ];
    const sdk = await runSdk(rows.map((r) => ({ name: r.name, token: r.token })));
    fixture.requests.length = 0; // from here on, only our verifier's requests
    for (const [i, row] of rows.entries()) {
      const ours = await b2bVerifier().verify(row.token);
      assert.equal(sdk[i]!.accepted, row.accepted, `SDK on "${row.name}": ${JSON.stringify(sdk[i])}`);
      assert.equal(ours.ok, row.accepted, `ours on "${row.name}": ${JSON.stringify(ours)}`);
      if (row.accepted && ours.ok && sdk[i]!.accepted) {
        assert.equal(ours.token.subject, sdk[i]!.subject);
        assert.match(ours.token.subject, /^member-test-/);
        assert.deepEqual(ours.token.claims['https://stytch.com/organization'], sdk[i]!.organization);
      }
    }
    assert.ok(fixture.requests.includes('GET /v1/b2b/sessions/jwks/' + project.projectId), 'keys come from the B2B path, as B2BClient fetches them');
  });

  it('RBAC: requirePermission with the organization decides as the B2B authorization_check (tenancy_mismatch, invalid_permissions)', async () => {
    const checks = [
      { name: 'read:okrs may read objectives in its organization', scope: 'read:okrs', check: { organization_id: acme.organization_id, resource_id: 'objective', action: 'read' } },
      { name: 'read:okrs may not create objectives', scope: 'read:okrs', check: { organization_id: acme.organization_id, resource_id: 'objective', action: 'create' } },
      { name: 'write:okrs may update key results (*)', scope: 'write:okrs', check: { organization_id: acme.organization_id, resource_id: 'key_result', action: 'update' } },
      { name: 'write:okrs may not delete objectives', scope: 'write:okrs', check: { organization_id: acme.organization_id, resource_id: 'objective', action: 'delete' } },
      { name: 'admin:okrs may delete objectives', scope: 'admin:okrs', check: { organization_id: acme.organization_id, resource_id: 'objective', action: 'delete' } },
      { name: 'admin:okrs in another organization: tenancy', scope: 'admin:okrs', check: { organization_id: globex.organization_id, resource_id: 'objective', action: 'read' } },
    ];
    const tokens = await Promise.all(checks.map((c) => fixture.mintMemberToken(acme, { scope: c.scope })));
    const sdk = await runSdk(checks.map((c, i) => ({ name: c.name, token: tokens[i]!, authorizationCheck: c.check })));
    fixture.requests.length = 0; // from here on, only our verifier's requests
    const rs = createResourceServer({ resource: 'https://mcp.example/mcp', authorizationServers: [project.baseUrl], verifier: b2bVerifier() });
    for (const [i, c] of checks.entries()) {
      const principal = await rs.authenticate(new Request('https://mcp.example/mcp', { headers: { Authorization: `Bearer ${tokens[i]}` } }));
      assert.ok(!(principal instanceof Response), c.name);
      const refusal = await rs.requirePermission(principal, { organizationId: c.check.organization_id, resourceId: c.check.resource_id, action: c.check.action });
      const theirs = sdk[i]!;
      assert.equal(refusal === null, theirs.accepted, `${c.name}: sdk ${JSON.stringify(theirs)}, ours ${refusal?.status ?? 'allowed'}`);
      if (!theirs.accepted) {
        const tenancy = c.check.organization_id !== acme.organization_id;
        assert.equal(theirs.error, tenancy ? 'tenancy_mismatch' : 'invalid_permissions', c.name);
        assert.equal(refusal?.status, 403);
        // A tenancy refusal names no scope (none would help); a permission refusal the scope that would.
        assert.equal(refusal?.headers.get('WWW-Authenticate') === null, tenancy, c.name);
      }
    }
    assert.ok(fixture.requests.includes('GET /v1/b2b/rbac/policy'), 'the policy comes from the B2B path');
  });

  it('documented divergence: an organization claim without organization_id or slug is refused by us, accepted by the SDK', async () => {
    const token = await fixture.mintAccessToken({ claims: { 'https://stytch.com/organization': { name: 'no id' } } });
    const [theirs] = await runSdk([{ name: 'claim without ids', token }]);
    assert.equal(theirs?.accepted, true);
    const ours = await b2bVerifier().verify(token);
    assert.equal(ours.ok === false && ours.reason, 'missing_claim');
  });
});
