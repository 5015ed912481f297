/**
 * The peer Portcullis is compared with: an MCP server built the way the MCP TypeScript SDK (v1,
 * `@modelcontextprotocol/sdk`) documents it. Express from `createMcpExpressApp`, the SDK's
 * `requireBearerAuth` middleware with a jose JWT verifier (RS side), `StreamableHTTPServerTransport`
 * sessions kept in a Map, and the SDK's own `tokenHandler` for refresh grants (AS side) over an
 * in-memory provider (the SDK ships no token storage: users write this part, and in memory is the
 * fastest they could write it). It serves the same `whoami` tool, which reads the username from the
 * same SQLite file Portcullis uses.
 *
 * It verifies the very access tokens Portcullis issues (same ES256 key, same claims), so both sides
 * do the same cryptographic work per request.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DatabaseSync } from 'node:sqlite';
import type { RequestHandler } from 'express';
import { createLocalJWKSet, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JSONWebKeySet } from 'jose';
import { InvalidGrantError, InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { tokenHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/token.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { RunningServer, ServerSpec } from './types.ts';

type SdkSpec = Extract<ServerSpec, { kind: 'sdk' }>;

/**
 * Two listeners in one process, as for Portcullis: `main` with the SDK's bearer middleware and token
 * endpoint, `noAuth` with the same MCP handler and no middleware, acting for `spec.noAuth`.
 */
export async function startSdkPeer(spec: SdkSpec): Promise<RunningServer> {
  const db = new DatabaseSync(spec.database, { readOnly: true });
  const usernameOf = db.prepare('select username from users where id = ?');

  const buildServer = (): McpServer => {
    const server = new McpServer({ name: 'sdk-peer', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.registerTool('whoami', { title: 'Who am I', description: 'Shows the signed-in user.', inputSchema: {} }, async (_args, extra) => {
      const auth = extra.authInfo;
      const subject = auth ? String(auth.extra?.['subject']) : spec.noAuth.subject;
      const row = usernameOf.get(subject) as { username: string } | undefined;
      const data = { subject, username: row?.username ?? null, clientId: auth?.clientId ?? spec.noAuth.clientId, scopes: auth?.scopes ?? spec.noAuth.scopes };
      return { content: [{ type: 'text', text: JSON.stringify(data, null, 2) }], structuredContent: data };
    });
    return server;
  };

  // The SDK's documented stateful wiring: one transport per session, found by Mcp-Session-Id.
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const mcp: RequestHandler = async (req, res) => {
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId !== undefined || req.method !== 'POST' || !isInitializeRequest(req.body)) {
        res.status(400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null });
        return;
      }
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void transports.set(id, created),
      });
      created.onclose = () => {
        if (created.sessionId) transports.delete(created.sessionId);
      };
      await buildServer().connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res, req.body);
  };

  const keySet = createLocalJWKSet(spec.jwks as JSONWebKeySet);
  const verifier = {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      try {
        const { payload } = await jwtVerify(token, keySet, { issuer: spec.issuer, audience: spec.audience, algorithms: ['ES256', 'RS256'], typ: 'at+jwt' });
        return {
          token,
          clientId: String(payload['client_id']),
          scopes: typeof payload['scope'] === 'string' ? payload['scope'].split(' ') : [],
          ...(payload.exp !== undefined ? { expiresAt: payload.exp } : {}),
          extra: { subject: payload.sub },
        };
      } catch {
        throw new InvalidTokenError('Invalid access token');
      }
    },
  };
  const refresh = await inMemoryRefreshProvider(spec, verifier);
  const authApp = createMcpExpressApp({ host: '127.0.0.1' });
  authApp.all('/mcp', requireBearerAuth({ verifier, resourceMetadataUrl: `${spec.issuer}/.well-known/oauth-protected-resource/mcp` }), mcp);
  authApp.use('/token', tokenHandler({ provider: refresh.provider, rateLimit: false }));
  const openApp = createMcpExpressApp({ host: '127.0.0.1' });
  openApp.all('/mcp', mcp);

  const listen = (app: ReturnType<typeof createMcpExpressApp>): Promise<Server> =>
    new Promise((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => resolve(server));
    });
  const servers = [await listen(authApp), await listen(openApp)];
  const portOf = (server: Server): number => (server.address() as AddressInfo).port;
  return {
    ports: { main: portOf(servers[0]!), noAuth: portOf(servers[1]!) },
    async command(name, payload) {
      if (name !== 'seed-refresh') throw new Error(`unknown command ${name}`);
      const { count, clientId, subject, scopes } = payload as { count: number; clientId: string; subject: string; scopes: string[] };
      const tokens: string[] = [];
      for (let i = 0; i < count; i++) {
        const token = randomBytes(32).toString('base64url');
        refresh.tokens.set(token, { clientId, subject, scopes });
        tokens.push(token);
      }
      return tokens;
    },
    async close() {
      await Promise.all([...transports.values()].map((t) => t.close()));
      for (const server of servers) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      }
      db.close();
    },
  };
}

/** The refresh side of an `OAuthServerProvider`, kept in a Map, signing ES256 access tokens with jose. */
async function inMemoryRefreshProvider(spec: SdkSpec, verifier: { verifyAccessToken(token: string): Promise<AuthInfo> }) {
  const { privateKey } = await generateKeyPair('ES256');
  const tokens = new Map<string, { clientId: string; subject: string; scopes: string[] }>();
  const unsupported = async (): Promise<never> => {
    throw new Error('not part of the benchmark');
  };
  const provider: OAuthServerProvider = {
    clientsStore: {
      getClient: async (clientId: string): Promise<OAuthClientInformationFull> => ({
        client_id: clientId,
        redirect_uris: ['http://127.0.0.1:9/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
      }),
    },
    authorize: unsupported,
    challengeForAuthorizationCode: unsupported,
    exchangeAuthorizationCode: unsupported,
    verifyAccessToken: (token) => verifier.verifyAccessToken(token),
    async exchangeRefreshToken(client, refreshToken) {
      const record = tokens.get(refreshToken);
      if (!record || record.clientId !== client.client_id) throw new InvalidGrantError('Invalid refresh token');
      tokens.delete(refreshToken);
      const next = randomBytes(32).toString('base64url');
      tokens.set(next, record);
      const accessToken = await signAccessToken(privateKey, spec, record);
      return { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, scope: record.scopes.join(' '), refresh_token: next };
    },
  };
  return { provider, tokens };
}

function signAccessToken(key: CryptoKey, spec: { issuer: string; audience: string }, record: { clientId: string; subject: string; scopes: string[] }): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: spec.issuer,
    sub: record.subject,
    aud: spec.audience,
    client_id: record.clientId,
    scope: record.scopes.join(' '),
    iat,
    exp: iat + 3600,
    jti: randomBytes(16).toString('base64url'),
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'sdk-peer' })
    .sign(key);
}
