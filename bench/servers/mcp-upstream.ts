import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { McpServer, WebStandardStreamableHTTPServerTransport, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { RunningServer } from './types.ts';

/**
 * The upstream MCP server of the gateway phase: the official SDK (v2), Streamable HTTP, 2025-era
 * sessions in a Map, on 127.0.0.1 — the simplest server an operator would put behind the gateway.
 * Two tools: `echo` (the relayed call under load) and `progress` (a progress notification at once,
 * then the answer `delayMs` later: how soon an SSE event crosses a relay). It checks no
 * credentials: the gateway, the bare proxy and direct clients all reach it alike.
 */
export async function startMcpUpstream(): Promise<RunningServer> {
  const transports = new Map<string, WebStandardStreamableHTTPServerTransport>();

  const newServer = (): McpServer => {
    const server = new McpServer({ name: 'bench-upstream', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.registerTool('echo', { description: 'Says the text back.', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }));
    server.registerTool(
      'progress',
      { description: 'A progress notification at once, then the answer after delayMs.', inputSchema: z.object({ delayMs: z.number().int().min(0).max(10_000) }) },
      async ({ delayMs }, ctx: ServerContext) => {
        const token = ctx.mcpReq._meta?.progressToken;
        if (token !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: 1, total: 2 } });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        return { content: [{ type: 'text', text: 'done' }] };
      },
    );
    return server;
  };

  const notFound = (): Response => Response.json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }, { status: 404 });
  async function serve(request: Request): Promise<Response> {
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) return transports.get(sessionId)?.handleRequest(request) ?? notFound();
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => void transports.set(id, transport),
      onsessionclosed: (id) => void transports.delete(id),
    });
    await newServer().connect(transport);
    return transport.handleRequest(request);
  }

  const server = createAdaptorServer({ fetch: serve }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    ports: { main: (server.address() as AddressInfo).port },
    async close() {
      await Promise.all([...transports.values()].map((t) => t.close()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
