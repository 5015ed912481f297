import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { resolveConfig } from '../../src/config/resolve.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { loginDirectly, startOidcProvider, type OidcProviderFixture } from '../fixtures/oidc-provider.ts';
import { parseChallenge } from '../resource/fixtures.ts';

/**
 * Resource-only Portcullis behind an authorization server no one here wrote: panva's `oidc-provider`
 * (test/fixtures/oidc-provider.ts) with RFC 8707 resource indicators. Tokens are obtained by a real
 * authorization-code + PKCE flow against it (its login form submitted over HTTP), then presented to
 * Portcullis on a real socket: as RFC 9068 JWTs checked with the provider's JWKS, and as opaque
 * tokens checked at its RFC 7662 introspection endpoint.
 */

const APP = { clientId: 'mcp-desktop', clientSecret: 'mcp-desktop-secret-0123456789abcdef', redirectUri: 'http://127.0.0.1:53682/callback' };
/** The resource-only server's own client at the provider, for introspection (RFC 7662 §2.1). */
const RS_CLIENT = { clientId: 'portcullis-rs', clientSecret: 'portcullis-rs-secret-0123456789abcdef' };
const OTHER_JWT_RESOURCE = 'https://other-mcp.example/mcp';
const OTHER_OPAQUE_RESOURCE = 'https://other-opaque.example/mcp';
const SCOPES = 'tasks:read tasks:write';

/** A socket bound first (so the MCP URL is known before anything is configured), Portcullis attached later. */
interface LateServer {
  origin: string;
  attach(config: ConfigInput): Promise<Portcullis>;
  close(): Promise<void>;
}

async function bindLateServer(): Promise<LateServer> {
  let portcullis: Portcullis | undefined;
  const server = createAdaptorServer({ fetch: (request, env) => (portcullis ? portcullis.app.fetch(request, env) : new Response('starting', { status: 503 })) }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    async attach(config) {
      portcullis = await createPortcullis({
        config: resolveConfig({ publicUrl: origin, database: ':memory:', ...config }),
        storage: await openSqliteStorage(':memory:'),
        logger: createMemoryLogger(),
      });
      return portcullis;
    },
    async close() {
      const closeServer = () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      await (portcullis ? portcullis.close({ drain: closeServer }) : closeServer());
    },
  };
}

/** tools/call with the official SDK client over the socket, the token in the Authorization header. */
async function callTool(mcpUrl: string, token: string, name: string, args: Record<string, unknown> = {}) {
  const client = new Client({ name: 'oidc-provider-e2e', version: '1' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  try {
    return await client.callTool({ name, arguments: args });
  } finally {
    await client.close();
  }
}

/** A raw MCP POST, for answers the SDK client would turn into an exception. */
function rawPost(mcpUrl: string, token: string): Promise<Response> {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
}

async function assertRefused(mcpUrl: string, token: string): Promise<void> {
  const response = await rawPost(mcpUrl, token);
  assert.equal(response.status, 401);
  const { params } = parseChallenge(response.headers.get('WWW-Authenticate'));
  assert.equal(params['error'], 'invalid_token');
  assert.equal(params['resource_metadata'], `${new URL(mcpUrl).origin}/.well-known/oauth-protected-resource/mcp`);
}

describe('E2E: resource-only Portcullis with oidc-provider as its authorization server', () => {
  let idp: OidcProviderFixture;
  let jwksServer: LateServer;
  let introspectingServer: LateServer;
  let jwksMcp: string;
  let introspectingMcp: string;

  /** A real authorization-code + PKCE flow at the provider for `resource`; its access token. */
  const tokenFor = async (resource: string, scope = `openid ${SCOPES}`): Promise<string> => {
    const tokens = await loginDirectly(idp, { ...APP, login: 'alice', scope, resource });
    return String(tokens['access_token']);
  };

  before(async () => {
    [jwksServer, introspectingServer] = await Promise.all([bindLateServer(), bindLateServer()]);
    jwksMcp = `${jwksServer.origin}/mcp`;
    introspectingMcp = `${introspectingServer.origin}/mcp`;
    const jwt = (audience: string, alg: 'ES256' | 'RS256') => ({ audience, scope: SCOPES, accessTokenFormat: 'jwt' as const, jwt: { sign: { alg } } });
    const opaque = (audience: string) => ({ audience, scope: SCOPES, accessTokenFormat: 'opaque' as const });
    idp = await startOidcProvider({
      accounts: [{ sub: 'alice', email: 'alice@example.com', email_verified: true }],
      clients: [
        { client_id: APP.clientId, client_secret: APP.clientSecret, redirect_uris: [APP.redirectUri], grant_types: ['authorization_code'], response_types: ['code'] },
        { client_id: RS_CLIENT.clientId, client_secret: RS_CLIENT.clientSecret, redirect_uris: [], grant_types: [], response_types: [] },
      ],
      scopes: ['tasks:read', 'tasks:write'],
      resourceServers: {
        [jwksMcp]: jwt(jwksMcp, 'ES256'),
        [OTHER_JWT_RESOURCE]: jwt(OTHER_JWT_RESOURCE, 'RS256'),
        [introspectingMcp]: opaque(introspectingMcp),
        [OTHER_OPAQUE_RESOURCE]: opaque(OTHER_OPAQUE_RESOURCE),
      },
      // Who may introspect what: the resource server anything, a client only its own tokens.
      configure: (configuration) => {
        const introspection = configuration.features?.introspection;
        assert.ok(introspection, 'the fixture enables introspection');
        introspection.allowedPolicy = (_ctx, client, token) => client.clientId === RS_CLIENT.clientId || client.clientId === token.clientId;
      },
    });
    await jwksServer.attach({ authorizationServer: { issuer: idp.issuer } });
    await introspectingServer.attach({
      authorizationServer: { issuer: idp.issuer, verifier: 'introspection', introspection: { clientId: RS_CLIENT.clientId, clientSecret: RS_CLIENT.clientSecret } },
    });
  });

  after(async () => {
    await Promise.all([jwksServer?.close(), introspectingServer?.close()]);
    await idp?.close();
  });

  it('RS-02: the PRM sends clients to oidc-provider', async () => {
    const prm = (await (await fetch(`${jwksServer.origin}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>;
    assert.deepEqual(prm['authorization_servers'], [idp.issuer]);
    assert.equal(prm['resource'], jwksMcp);
  });

  it('RFC 9068 + RFC 8707: an at+jwt that oidc-provider issued for this MCP URL by code + PKCE calls the built-in tools (jwks verifier)', async () => {
    const token = await tokenFor(jwksMcp);
    assert.equal(decodeProtectedHeader(token).typ, 'at+jwt');
    assert.equal(decodeJwt(token).aud, jwksMcp);

    const me = (await callTool(jwksMcp, token, 'whoami')).structuredContent as Record<string, unknown>;
    assert.deepEqual(me, { subject: 'alice', subjectType: 'user', username: null, clientId: APP.clientId, scopes: ['tasks:read', 'tasks:write'] });
    const created = await callTool(jwksMcp, token, 'create_task', { title: 'Renew passport' });
    assert.equal(created.isError, undefined);
    const listed = (await callTool(jwksMcp, token, 'list_tasks')).structuredContent as { tasks: Array<{ title: string }> };
    assert.deepEqual(listed.tasks.map((t) => t.title), ['Renew passport']);
  });

  it('RS-08/RS-18: a JWT oidc-provider issued for another resource is refused with 401 invalid_token', async () => {
    const token = await tokenFor(OTHER_JWT_RESOURCE);
    assert.equal(decodeJwt(token).aud, OTHER_JWT_RESOURCE, 'a genuine, validly signed token of the same provider');
    await assertRefused(jwksMcp, token);
  });

  it('RS-08: an ID token of the same provider (typ JWT, aud = the client) is not an access token and is refused', async () => {
    const tokens = await loginDirectly(idp, { ...APP, login: 'alice', scope: `openid ${SCOPES}`, resource: jwksMcp });
    await assertRefused(jwksMcp, String(tokens['id_token']));
  });

  it('RFC 7662: an opaque token oidc-provider issued for this MCP URL is checked at its introspection endpoint and calls the tools', async () => {
    const token = await tokenFor(introspectingMcp);
    assert.throws(() => decodeProtectedHeader(token), 'an opaque token, not a JWT');
    const me = (await callTool(introspectingMcp, token, 'whoami')).structuredContent as Record<string, unknown>;
    assert.equal(me['subject'], 'alice');
    assert.equal(me['clientId'], APP.clientId);
    assert.deepEqual(me['scopes'], ['tasks:read', 'tasks:write']);
  });

  it('RS-08/RS-18: an opaque token for another resource is active at the provider but refused here (its aud is not this server)', async () => {
    await assertRefused(introspectingMcp, await tokenFor(OTHER_OPAQUE_RESOURCE));
  });

  it('the two verifiers do not accept each other\'s tokens: a JWT for the jwks server is not for the introspecting one', async () => {
    await assertRefused(introspectingMcp, await tokenFor(jwksMcp));
    await assertRefused(jwksMcp, await tokenFor(introspectingMcp));
  });
});
