/**
 * An MCP server on Express (MCP TypeScript SDK v2) whose callers need an access token from Stytch or
 * any OAuth server: Portcullis checks the token, answers the 401/403 challenges and serves the
 * Protected Resource Metadata. See README.md.
 */
import { hostHeaderValidation, originValidation, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer, requireScopes } from '@modelcontextprotocol/server';
import express from 'express';
import { createJwksVerifier, createResourceServer, createStytchVerifier, expressAuth, expressMetadata, type Principal } from 'portcullis';
import * as z from 'zod';

const { PORT = '3000', HOST = '127.0.0.1', STYTCH_PROJECT_ID, STYTCH_DOMAIN, STYTCH_SECRET, AUTHORIZATION_SERVER } = process.env;
const publicUrl = process.env.PUBLIC_URL ?? `http://${HOST}:${PORT}`;
const mcpUrl = `${publicUrl}/mcp`; // the resource: tokens must be meant for exactly this URL

// Tokens from your Stytch project (as in Stytch's MCP guide), or from any OAuth server that publishes a JWKS.
const issuer = STYTCH_PROJECT_ID ? STYTCH_DOMAIN : AUTHORIZATION_SERVER;
if (!issuer) throw new Error('Set STYTCH_PROJECT_ID and STYTCH_DOMAIN (Stytch), or AUTHORIZATION_SERVER (the issuer URL of any OAuth server)');
const rs = createResourceServer({
  resource: mcpUrl,
  authorizationServers: [issuer],
  scopesSupported: ['openid', 'tasks:write'],
  verifier: STYTCH_PROJECT_ID
    ? createStytchVerifier({ projectId: STYTCH_PROJECT_ID, projectDomain: issuer, secret: STYTCH_SECRET })
    : createJwksVerifier({ issuer, audience: mcpUrl }),
});

const tasks = new Map<string, string[]>(); // each user's tasks, in memory

// A fresh MCP server per request; the verified caller (`req.auth`) reaches tools as `ctx.http.authInfo`.
const mcp = toNodeHandler(
  createMcpHandler(() => {
    const server = new McpServer({ name: 'tasks-express', version: '1.0.0' });
    server.registerTool('whoami', { description: 'Who the access token was issued to' }, (ctx) => {
      const { subject, clientId, scopes, claims } = ctx.http?.authInfo as Principal;
      return { content: [{ type: 'text', text: JSON.stringify({ subject, clientId, scopes, claims }, null, 2) }] };
    });
    server.registerTool(
      'add_task',
      { description: 'Add a task to your list', inputSchema: z.object({ title: z.string() }), scopeChallenge: requireScopes('tasks:write') },
      ({ title }, ctx) => {
        const { subject } = ctx.http?.authInfo as Principal;
        tasks.set(subject, [...(tasks.get(subject) ?? []), title]);
        return { content: [{ type: 'text', text: `Added "${title}"; you have ${tasks.get(subject)!.length} task(s).` }] };
      },
    );
    return server;
  }),
);

// The SDK's Host and Origin checks (DNS rebinding), for this server's own host name.
const { hostname } = new URL(publicUrl);
const validHost = hostHeaderValidation([hostname]);
const validOrigin = originValidation([hostname]);

const app = express();
app.use((req, res, next) => {
  if (validHost(req, res) && validOrigin(req, res)) next();
});
app.use(expressMetadata(rs)); // GET /.well-known/oauth-protected-resource[/mcp]
app.all('/mcp', expressAuth(rs), express.json(), (req, res) => mcp(req, res, req.body));

app.listen(Number(PORT), HOST, () => console.log(`MCP endpoint ${mcpUrl}`));
