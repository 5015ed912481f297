import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createResourceServer, type ResourceServerOptions } from '../../src/resource/resource-server.ts';
import { VerifierUnavailableError, type Principal, type TokenVerifier } from '../../src/resource/types.ts';
import { parseChallenge } from './fixtures.ts';
import { createTestIssuer } from './test-issuer.ts';

const RESOURCE = 'https://mcp.example/mcp';
const PRM = 'https://mcp.example/.well-known/oauth-protected-resource/mcp';
const withToken = (token: string) => new Request(RESOURCE, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });

async function setup(options: Partial<ResourceServerOptions> = {}) {
  const as = await createTestIssuer();
  const logger = createMemoryLogger();
  const rs = createResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer], verifier: as.verifier(), logger, ...options });
  return { as, rs, logger };
}

async function principalOf(rs: ReturnType<typeof createResourceServer>, token: string): Promise<Principal> {
  const result = await rs.authenticate(withToken(token));
  if (result instanceof Response) throw new Error(`refused: ${result.status} ${result.headers.get('WWW-Authenticate')}`);
  return result;
}

describe('createResourceServer', () => {
  it('hands the handler {subject, clientId, scopes, claims, token, expiresAt}: an MCP SDK AuthInfo as it is', async () => {
    const { as, rs } = await setup();
    const token = await as.sign();
    const principal = await principalOf(rs, token);
    assert.equal(principal.subject, 'user-1');
    assert.equal(principal.clientId, 'client-1');
    assert.deepEqual(principal.scopes, ['tasks:read']);
    assert.equal(principal.token, token);
    assert.equal(principal.claims['jti'] !== undefined, true);
    assert.equal(typeof principal.expiresAt, 'number');
  });

  it('RFC 6750 §3.1 no credentials: 401 with resource_metadata, the challenge scopes, and no error', async () => {
    const { rs } = await setup({ requiredScopes: ['tasks:read'] });
    const response = await rs.authenticate(new Request(RESOURCE));
    assert.ok(response instanceof Response);
    assert.equal(response.status, 401);
    assert.deepEqual(parseChallenge(response.headers.get('WWW-Authenticate')).params, { scope: 'tasks:read', resource_metadata: PRM });
    const bare = await (await setup()).rs.authenticate(new Request(RESOURCE));
    assert.ok(bare instanceof Response);
    assert.deepEqual(parseChallenge(bare.headers.get('WWW-Authenticate')).params, { resource_metadata: PRM }, 'no scope: clients fall back to scopes_supported');
  });

  it('RS-12/RS-13b requiredScopes (server-wide and per route) give 403 insufficient_scope naming every scope needed', async () => {
    const { as, rs } = await setup({ requiredScopes: ['tasks:read'] });
    const token = await as.sign({ claims: { scope: 'tasks:read' } });
    assert.ok(!((await rs.authenticate(withToken(token))) instanceof Response));
    const refusal = await rs.authenticate(withToken(token), { requiredScopes: ['tasks:write', 'notes:read'] });
    assert.ok(refusal instanceof Response);
    assert.equal(refusal.status, 403);
    const { params } = parseChallenge(refusal.headers.get('WWW-Authenticate'));
    assert.equal(params['error'], 'insufficient_scope');
    assert.equal(params['scope'], 'tasks:read tasks:write notes:read');
    assert.equal(params['resource_metadata'], PRM);
  });

  it('RS-15 requireScopes follows the configured scope hierarchy, and only it', async () => {
    const { as, rs } = await setup({ scopeImplications: { 'tasks:write': ['tasks:read'] } });
    const writer = await principalOf(rs, await as.sign({ claims: { scope: 'tasks:write' } }));
    assert.equal(rs.requireScopes(writer, ['tasks:read']), null);
    const reader = await principalOf(rs, await as.sign({ claims: { scope: 'tasks:read' } }));
    assert.equal(rs.requireScopes(reader, ['tasks:write'])?.status, 403);
    const plain = await setup();
    const writerWithoutHierarchy = await principalOf(plain.rs, await plain.as.sign({ claims: { scope: 'tasks:write' } }));
    assert.equal(plain.rs.requireScopes(writerWithoutHierarchy, ['tasks:read'])?.status, 403);
  });

  it('a rejected token is logged with its reason at debug level, never with the token', async () => {
    const { as, rs, logger } = await setup();
    const token = await as.sign({ claims: { aud: 'https://other.example' } });
    const response = await rs.authenticate(withToken(token));
    assert.ok(response instanceof Response && response.status === 401);
    const record = logger.records().find((r) => r['msg'] === 'access token rejected');
    assert.equal(record?.['reason'], 'wrong_audience');
    assert.ok(!logger.lines.some((l) => l.includes(token)));
  });

  it('a verifier that cannot reach its authorization server gives 503 with Retry-After, not 401', async () => {
    const unreachable: TokenVerifier = {
      verify: async () => {
        throw new VerifierUnavailableError('JWKS unreachable');
      },
    };
    const { rs } = await setup({ verifier: unreachable });
    const response = await rs.authenticate(withToken('abc'));
    assert.ok(response instanceof Response);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('Retry-After'), '5');
    assert.equal(response.headers.get('WWW-Authenticate'), null, 'not a challenge: the token may be fine');
    assert.equal(((await response.json()) as { error: string }).error, 'temporarily_unavailable');
  });

  it('a verifier bug is not turned into a 401: the error propagates (a 500 upstream)', async () => {
    const broken: TokenVerifier = {
      verify: async () => {
        throw new RangeError('bug');
      },
    };
    const { rs } = await setup({ verifier: broken });
    await assert.rejects(rs.authenticate(withToken('abc')), RangeError);
  });

  it('refuses a resource that is not an absolute https URL (plain http only on loopback), or no authorization server', async () => {
    const verifier: TokenVerifier = { verify: async () => ({ ok: false, reason: 'malformed' }) };
    const make = (resource: string, extra: Partial<ResourceServerOptions> = {}) => () => createResourceServer({ resource, authorizationServers: ['https://as.example'], verifier, ...extra });
    assert.throws(make('mcp.example/mcp'), /absolute URL/);
    assert.throws(make('https://mcp.example/mcp#x'), /fragment/);
    assert.throws(make('http://mcp.example/mcp'), /plain http/);
    assert.doesNotThrow(make('http://127.0.0.1:3000/mcp'));
    assert.doesNotThrow(make('http://mcp.internal/mcp', { dangerouslyAllowInsecureHttp: true }));
    assert.throws(make('https://mcp.example/mcp', { authorizationServers: [] }), /authorizationServers/);
  });

  describe('Protected Resource Metadata (RFC 9728)', () => {
    it('RFC 9728 §2 the document: resource, authorization_servers, scopes_supported without offline_access (RS-16), bearer_methods_supported', async () => {
      const { rs } = await setup({ scopesSupported: ['openid', 'tasks:read', 'offline_access'], resourceName: 'Tasks' });
      assert.deepEqual(rs.metadata, {
        resource: RESOURCE,
        authorization_servers: ['https://as.example'],
        scopes_supported: ['openid', 'tasks:read'],
        bearer_methods_supported: ['header'],
        resource_name: 'Tasks',
        dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256'],
      });
    });

    it('RFC 9728 §3.1 / RS-03b served at the path-inserted and root locations, with or without a trailing slash, readable cross-origin', async () => {
      const { rs } = await setup();
      for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource/mcp/', '/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/']) {
        const response = rs.metadataResponse(new Request(`https://mcp.example${path}`));
        assert.equal(response?.status, 200, path);
        assert.equal(response.headers.get('Access-Control-Allow-Origin'), '*');
        assert.deepEqual(await response.json(), rs.metadata);
      }
      assert.equal(rs.metadataResponse(new Request('https://mcp.example/mcp')), null);
      assert.equal(rs.metadataResponse(new Request('https://mcp.example/.well-known/oauth-protected-resource/other')), null);
      assert.equal(rs.metadataResponse(new Request(PRM, { method: 'POST' })), null);
      const preflight = rs.metadataResponse(new Request(PRM, { method: 'OPTIONS', headers: { Origin: 'https://inspector.example', 'Access-Control-Request-Method': 'GET' } }));
      assert.equal(preflight?.status, 204);
      assert.equal(preflight.headers.get('Access-Control-Allow-Origin'), '*');
      const head = rs.metadataResponse(new Request(PRM, { method: 'HEAD' }));
      assert.equal(head?.status, 200);
      assert.equal(head.body, null);
    });

    it('RS-26 resource_metadata in the challenge points at a document whose resource is the URL the client used', async () => {
      const { rs } = await setup({ resource: 'https://mcp.stytch.dev' });
      assert.equal(rs.resourceMetadataUrl, 'https://mcp.stytch.dev/.well-known/oauth-protected-resource');
      const challenge = await rs.authenticate(new Request('https://mcp.stytch.dev'));
      assert.ok(challenge instanceof Response);
      const url = parseChallenge(challenge.headers.get('WWW-Authenticate')).params['resource_metadata']!;
      const prm = (await rs.metadataResponse(new Request(url))!.json()) as { resource: string };
      assert.equal(prm.resource, 'https://mcp.stytch.dev');
    });
  });
});
