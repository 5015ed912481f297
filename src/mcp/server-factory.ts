import { McpServer, type McpServerFactory } from '@modelcontextprotocol/server';
import type { AppContext } from '../context.ts';
import { missingScopes } from '../resource/scopes.ts';
import { toolPrincipalFrom } from './auth-info.ts';
import { toolError, type ToolRegistry } from './tools/registry.ts';

export const SERVER_VERSION = '0.1.0';

/**
 * Builds a fresh MCP server with every registered tool: once per request on the 2026-07-28 path,
 * once per session on the 2025 path. Handlers read the caller from the AuthInfo of the request
 * being served (not from the factory's), so a session always acts for the token on that request.
 */
export function createMcpServerFactory(ctx: AppContext, registry: ToolRegistry): McpServerFactory {
  return () => {
    const server = new McpServer({ name: ctx.config.serverName, version: SERVER_VERSION }, { capabilities: { tools: {} } });
    for (const tool of registry.list()) {
      server.registerTool(
        tool.name,
        { title: tool.title, description: tool.description, inputSchema: tool.inputSchema, ...(tool.annotations ? { annotations: tool.annotations } : {}) },
        async (input: unknown, extra) => {
          const principal = toolPrincipalFrom(extra.http?.authInfo);
          // Both are checked at the HTTP layer before the SDK runs; this is the second lock. Without
          // a token only a public tool gets here (src/policy/enforce.ts), and only one that can serve nobody runs.
          if (!principal) return tool.runAnonymous ? tool.runAnonymous(input, { app: ctx }) : toolError('This tool requires an authenticated caller.');
          const missing = missingScopes(principal.scopes, tool.requiredScopes);
          if (missing.length > 0) return toolError(`This tool requires the scope ${tool.requiredScopes.join(' ')}.`);
          return tool.run(input, { principal, app: ctx });
        },
      );
    }
    return server;
  };
}
