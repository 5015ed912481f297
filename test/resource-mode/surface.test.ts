import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { renderStartupBanner } from '../../src/bootstrap/banner.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../helpers/app.ts';
import { connectClient, post, toolCallMessage } from '../mcp/wire.ts';
import { parseChallenge } from '../resource/fixtures.ts';
import { createTestIssuer, type TestIssuer } from '../resource/test-issuer.ts';
import { createConnectedAppsFixture, type ConnectedAppsFixture } from '../fixtures/stytch/connected-apps.ts';
import { createStytchProject } from '../fixtures/stytch/project.ts';

/**
 * Resource-only mode in-process: Portcullis with `authorizationServer` set, in front of a small
 * third-party authorization server (test/resource/test-issuer.ts) reached through the injected fetch.
 */

const MCP_URL = `${TEST_ORIGIN}/mcp`;
const PRM_URL = `${TEST_ORIGIN}/.well-known/oauth-protected-resource/mcp`;
const EXTERNAL_ISSUER = 'https://as.example';

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** One tool call through the official SDK client (2026-07-28, no session), as the token's holder. */
async function callTool(t: TestApp, token: string, name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const { client } = await connectClient(t, token, 'modern');
  try {
    const result = await client.callTool({ name, arguments: args });
    assert.equal(result.isError, undefined, JSON.stringify(result.content));
    return result.structuredContent as Record<string, unknown>;
  } finally {
    await client.close();
  }
}

function assertInvalidToken(response: Response): void {
  assert.equal(response.status, 401);
  const { scheme, params } = parseChallenge(response.headers.get('WWW-Authenticate'));
  assert.equal(scheme, 'Bearer');
  assert.equal(params['error'], 'invalid_token');
  assert.equal(params['resource_metadata'], PRM_URL);
}

describe('resource-only mode (jwks verifier): the MCP endpoint trusts another authorization server', () => {
  let t: TestApp;
  let issuer: TestIssuer;

  before(async () => {
    issuer = await createTestIssuer({ issuer: EXTERNAL_ISSUER, resource: MCP_URL, clock: new ManualClock(Date.now()) });
    t = await createTestApp({ authorizationServer: { issuer: EXTERNAL_ISSUER } }, { fetch: issuer.fetch });
  });
  after(() => t.close());

  it('RS-02: the Protected Resource Metadata names the external authorization server, and only it', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const response = await t.request(path);
      assert.equal(response.status, 200, path);
      const prm = (await response.json()) as Record<string, unknown>;
      assert.deepEqual(prm['authorization_servers'], [EXTERNAL_ISSUER]);
      // RS-26: byte-identical to the URL clients use, and to the `aud` tokens must carry.
      assert.equal(prm['resource'], MCP_URL);
      assert.deepEqual(prm['scopes_supported'], ['tasks:read', 'tasks:write']);
    }
  });

  it('RS-03a: without a token, 401 with the PRM URL and the scope to ask for, as in the all-in-one server', async () => {
    const response = await post(t, toolCallMessage('whoami'));
    assert.equal(response.status, 401);
    const { params } = parseChallenge(response.headers.get('WWW-Authenticate'));
    assert.equal(params['resource_metadata'], PRM_URL);
    assert.equal(params['scope'], 'tasks:read tasks:write', 'every declared scope, defaultScopes being unset');
    assert.equal(params['error'], undefined);
  });

  it('the built-in authorization server is off: its endpoints, pages and metadata are 404', async () => {
    const probes: Array<[string, string]> = [
      ['GET', '/.well-known/oauth-authorization-server'],
      ['GET', '/.well-known/openid-configuration'],
      ['GET', '/authorize?response_type=code&client_id=x'],
      ['POST', '/token'],
      ['POST', '/register'],
      ['GET', '/login'],
      ['POST', '/login'],
      ['GET', '/consent'],
      ['GET', '/logout'],
      ['GET', '/callback'],
      ['GET', '/admin'],
      ['GET', '/admin/sign-in'],
      ['GET', '/jwks'],
      ['POST', '/revoke'],
      ['POST', '/introspect'],
      ['GET', '/userinfo'],
    ];
    for (const [method, path] of probes) {
      const response = await t.request(path, { method, ...(method === 'POST' ? { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code' } : {}) });
      assert.equal(response.status, 404, `${method} ${path}`);
      await response.body?.cancel();
    }
    assert.equal((await t.request('/healthz')).status, 200, 'health checks stay');
  });

  it('no signing key is created: this server issues no tokens', async () => {
    assert.deepEqual(await t.storage.signingKeys.list(), []);
  });

  it('a token of the external server for this MCP URL calls the built-in tools (official SDK client)', async () => {
    const token = await issuer.sign({ claims: { sub: 'ext-user-1', client_id: 'ext-client', scope: 'tasks:read tasks:write' } });
    const { client } = await connectClient(t, token, 'modern');
    try {
      const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as Record<string, unknown>;
      assert.deepEqual(me, { subject: 'ext-user-1', subjectType: 'user', username: null, clientId: 'ext-client', scopes: ['tasks:read', 'tasks:write'] });
      const created = await client.callTool({ name: 'create_task', arguments: { title: 'Water the plants' } });
      assert.equal(created.isError, undefined);
    } finally {
      await client.close();
    }
    assert.ok(issuer.requests.includes('/.well-known/oauth-authorization-server') && issuer.requests.includes('/jwks'), 'the JWKS was found through the issuer\'s metadata');
  });

  it('tasks are kept per subject of the external server', async () => {
    const other = await issuer.sign({ claims: { sub: 'ext-user-2', scope: 'tasks:read' } });
    assert.deepEqual(await callTool(t, other, 'list_tasks'), { tasks: [] });
    const mine = await issuer.sign({ claims: { sub: 'ext-user-1', scope: 'tasks:read' } });
    const own = (await callTool(t, mine, 'list_tasks')) as { tasks: Array<{ title: string }> };
    assert.deepEqual(own.tasks.map((task) => task.title), ['Water the plants']);
  });

  it('RS-12: scopes are enforced on the external server\'s tokens too (403 insufficient_scope)', async () => {
    const readOnly = await issuer.sign({ claims: { scope: 'tasks:read' } });
    const response = await post(t, toolCallMessage('create_task', { title: 'x' }), bearer(readOnly));
    assert.equal(response.status, 403);
    const { params } = parseChallenge(response.headers.get('WWW-Authenticate'));
    assert.equal(params['error'], 'insufficient_scope');
    assert.equal(params['scope'], 'tasks:write');
  });

  it('RS-08/RS-18: a token of the same server for another resource is refused with 401 invalid_token', async () => {
    assertInvalidToken(await post(t, toolCallMessage('whoami'), bearer(await issuer.sign({ claims: { aud: 'http://localhost:3000/other-mcp' } }))));
    assertInvalidToken(await post(t, toolCallMessage('whoami'), bearer(await issuer.sign({ claims: { aud: 'https://as.example' } }))));
    assertInvalidToken(await post(t, toolCallMessage('whoami'), bearer(await issuer.sign({ claims: { aud: undefined } }))));
  });

  it('a token whose iss is not the configured authorization server is refused with 401 invalid_token', async () => {
    assertInvalidToken(await post(t, toolCallMessage('whoami'), bearer(await issuer.sign({ claims: { iss: 'https://evil.example' } }))));
  });

  it('RFC 9068 §2.1: a JWT that is not typed as an access token (e.g. an ID token) is refused by default', async () => {
    assertInvalidToken(await post(t, toolCallMessage('whoami'), bearer(await issuer.sign({ header: { typ: 'JWT' } }))));
  });
});

describe('resource-only mode: the verifier settings take effect', () => {
  it('tokenType accepts servers that type their access tokens JWT; a configured jwksUrl is used without discovery', async () => {
    const issuer = await createTestIssuer({ issuer: EXTERNAL_ISSUER, resource: MCP_URL, clock: new ManualClock(Date.now()), discovery: 'none' });
    const t = await createTestApp({ authorizationServer: { issuer: EXTERNAL_ISSUER, tokenType: ['JWT'], jwksUrl: `${EXTERNAL_ISSUER}/jwks` } }, { fetch: issuer.fetch });
    try {
      assert.equal((await callTool(t, await issuer.sign({ header: { typ: 'JWT' } }), 'whoami'))['subject'], 'user-1');
      assert.deepEqual(issuer.requests, ['/jwks']);
    } finally {
      await t.close();
    }
  });

  it('algorithms: a token signed with an algorithm not on the list is refused', async () => {
    const issuer = await createTestIssuer({ issuer: EXTERNAL_ISSUER, resource: MCP_URL, clock: new ManualClock(Date.now()) });
    const t = await createTestApp({ authorizationServer: { issuer: EXTERNAL_ISSUER, algorithms: ['RS256'] } }, { fetch: issuer.fetch });
    try {
      assertInvalidToken(await post(t, toolCallMessage('whoami'), bearer(await issuer.sign())));
    } finally {
      await t.close();
    }
  });

  it('an unreachable authorization server is 503 (try again), not 401 (log in again)', async () => {
    const issuer = await createTestIssuer({ issuer: EXTERNAL_ISSUER, resource: MCP_URL, clock: new ManualClock(Date.now()) });
    issuer.jwksBehaviour.status = 500;
    const t = await createTestApp({ authorizationServer: { issuer: EXTERNAL_ISSUER } }, { fetch: issuer.fetch });
    try {
      const response = await post(t, toolCallMessage('whoami'), bearer(await issuer.sign()));
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('WWW-Authenticate'), null);
    } finally {
      await t.close();
    }
  });
});

describe('resource-only mode (stytch verifier): seed 1 with a Stytch project', () => {
  let t: TestApp;
  let stytch: ConnectedAppsFixture;
  const clock = new ManualClock(Date.now());

  before(async () => {
    stytch = await createConnectedAppsFixture({ project: createStytchProject('https://rustic-kilogram-6347.customers.stytch.com'), clock });
    t = await createTestApp(
      { authorizationServer: { issuer: stytch.project.baseUrl, verifier: 'stytch' }, identityProvider: { stytch: { projectId: stytch.project.projectId } } },
      { fetch: stytch.fetch },
    );
  });
  after(() => t.close());

  it('RS-02: the PRM names the project domain, as in seed 1', async () => {
    const prm = (await (await t.request('/.well-known/oauth-protected-resource')).json()) as Record<string, unknown>;
    assert.deepEqual(prm['authorization_servers'], [stytch.project.baseUrl]);
  });

  it('a Connected Apps access token (typ JWT, aud = project id) calls the tools; the keys come from the project JWKS', async () => {
    const token = await stytch.mintAccessToken({ claims: { scope: 'openid tasks:read' } });
    const me = await callTool(t, token, 'whoami');
    assert.match(String(me['subject']), /^user-test-/);
    assert.ok(stytch.requests.includes(`GET /v1/sessions/jwks/${stytch.project.projectId}`));
  });

  it('RS-18: a token of another Stytch project is refused', async () => {
    assertInvalidToken(await post(t, toolCallMessage('whoami'), bearer(await stytch.mintAccessToken({ claims: { aud: ['project-test-00000000-0000-4000-8000-000000000000'] } }))));
  });

  it('RS-08 strict audience: with stytchStrictAudience, aud must also name this MCP URL', async () => {
    const strict = await createTestApp(
      {
        authorizationServer: { issuer: stytch.project.baseUrl, verifier: 'stytch', stytchStrictAudience: true },
        identityProvider: { stytch: { projectId: stytch.project.projectId } },
      },
      { fetch: stytch.fetch },
    );
    try {
      assertInvalidToken(await post(strict, toolCallMessage('whoami'), bearer(await stytch.mintAccessToken())));
      const forUs = await stytch.mintAccessToken({ claims: { aud: [stytch.project.projectId, MCP_URL] } });
      assert.match(String((await callTool(strict, forUs, 'whoami'))['subject']), /^user-test-/);
    } finally {
      await strict.close();
    }
  });
});

describe('resource-only mode: the start-up banner says which authorization server it trusts', () => {
  const listening = '127.0.0.1:3000';

  it('names the external issuer and the verifier, not an issuer of its own, and offers no user commands', () => {
    const config = resolveConfig({ publicUrl: 'https://mcp.example.com', authorizationServer: { issuer: 'https://auth.example.com' } });
    const banner = renderStartupBanner({ config, listening, firstAdmin: null, cli: 'portcullis' });
    assert.match(banner, /MCP server URL\s+https:\/\/mcp\.example\.com\/mcp\n/);
    assert.match(banner, /Tokens from\s+https:\/\/auth\.example\.com\s+\(JWT access tokens checked with the JWKS named in its metadata\)/);
    assert.match(banner, /Authorization\s+off here/);
    assert.doesNotMatch(banner, /Issuer\s/);
    assert.doesNotMatch(banner, /users add/);
  });

  it('names the introspection endpoint; warns that Stytch tokens are not bound to this server without strict audience', () => {
    const introspecting = resolveConfig({
      publicUrl: 'https://mcp.example.com',
      authorizationServer: { issuer: 'https://auth.example.com', verifier: 'introspection', introspection: { endpoint: 'https://auth.example.com/introspect', clientId: 'rs', clientSecret: 'k2Jd9s' } },
    });
    const introspectionBanner = renderStartupBanner({ config: introspecting, listening, firstAdmin: null, cli: 'portcullis' });
    assert.match(introspectionBanner, /tokens checked at https:\/\/auth\.example\.com\/introspect/);
    assert.doesNotMatch(introspectionBanner, /k2Jd9s/, 'the client secret is never printed');

    const stytchConfig = (strict: boolean) =>
      resolveConfig({
        publicUrl: 'https://mcp.example.com',
        authorizationServer: { issuer: 'https://login.example.com', verifier: 'stytch', stytchStrictAudience: strict },
        identityProvider: { stytch: { projectId: 'project-test-6d5f5c3a-1111-4222-8333-944445555666' } },
      });
    assert.match(renderStartupBanner({ config: stytchConfig(false), listening, firstAdmin: null, cli: 'portcullis' }), /any access token of the project is accepted here/);
    assert.doesNotMatch(renderStartupBanner({ config: stytchConfig(true), listening, firstAdmin: null, cli: 'portcullis' }), /any access token of the project/);
  });
});
