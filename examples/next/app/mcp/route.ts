/**
 * The MCP endpoint, `/mcp`: a Next.js App Router route handler (MCP TypeScript SDK v2) that runs
 * only for callers with a valid access token; `withMcpAuth` answers everyone else with the 401/403
 * challenge MCP clients follow.
 */
import { createMcpHandler, McpServer, originValidationResponse, requireScopes } from '@modelcontextprotocol/server';
import { withMcpAuth, type Principal } from 'portcullis';
import * as z from 'zod';
import { resourceServer } from '../../lib/resource-server.ts';

const tasks = new Map<string, string[]>(); // each user's tasks, in memory (use a database on serverless hosts)

// A fresh MCP server per request; the verified caller reaches tools as `ctx.http.authInfo`.
const mcp = createMcpHandler(() => {
  const server = new McpServer({ name: 'tasks-next', version: '1.0.0' });
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
});

const authenticated = withMcpAuth((request, auth) => mcp.fetch(request, { authInfo: auth }), { resourceServer });

// The SDK's Origin check (DNS rebinding): browsers may call only from this app's own host.
const ownHost = new URL(resourceServer.resource).hostname;
const handler = async (request: Request): Promise<Response> => originValidationResponse(request, [ownHost]) ?? authenticated(request);

export { handler as DELETE, handler as GET, handler as POST };
