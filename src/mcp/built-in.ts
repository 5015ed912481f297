import { createMcpHandler, isLegacyRequest } from '@modelcontextprotocol/server';
import type { AppContext } from '../context.ts';
import { protectedResourceMetadataUrl } from '../resource/metadata.ts';
import { authInfoFor } from './auth-info.ts';
import type { McpBackend } from './backend.ts';
import { createMcpServerFactory } from './server-factory.ts';
import { LegacySessions } from './sessions.ts';
import { builtInTools } from './tools/built-in.ts';
import { serverInfoTool } from './tools/server-info.ts';
import { compilePatterns } from '../policy/patterns.ts';
import { createToolRegistry, type ToolDefinition } from './tools/registry.ts';

const NO_SCOPES: readonly string[] = Object.freeze([]);
/** Sessions opened without a token (public tools), all callers together; the least recently used goes first. */
const MAX_ANONYMOUS_SESSIONS = 256;

export interface BuiltInBackendOptions {
  /** Tools to offer; defaults to the built-in tools whose scopes are configured. */
  tools?: readonly ToolDefinition[];
}

/**
 * The built-in MCP server (official SDK): 2026-07-28 requests are served per request, 2025-era
 * requests in sessions bound to the token's user and client (RS-22/RS-23, ./sessions.ts). A
 * `tools/call` needs the scopes of the tools it calls (RS-12).
 *
 * On Workers (`ctx.runtime`) isolates share no memory, so a session opened in one would be unknown
 * to the next: 2025-era requests are served statelessly instead (the SDK's `legacy: 'stateless'`, no
 * `Mcp-Session-Id`, GET and DELETE answered 405), which the 2025 revisions allow. The built-in tools
 * keep nothing between requests but what is in storage, so clients lose nothing.
 */
export function createBuiltInBackend(ctx: AppContext, options: BuiltInBackendOptions = {}): McpBackend {
  const { config, logger } = ctx;
  // `server_info` only when the tool policy makes it public: by default the tools are as they were.
  const publicDemo = compilePatterns(config.toolPolicy.public.tools)?.(serverInfoTool.name) === true ? [serverInfoTool] : [];
  const tools = options.tools ?? [...builtInTools.filter((t) => t.requiredScopes.every((s) => config.scopeNames.has(s))), ...publicDemo];
  const registry = createToolRegistry(tools, config.scopeNames);
  const factory = createMcpServerFactory(ctx, registry);
  const stateless = ctx.runtime === 'workers';
  const modern = createMcpHandler(factory, { legacy: stateless ? 'stateless' : 'reject', onerror: (error) => logger.debug('mcp request rejected', { error }) });
  // The built-in tools answer each call with its result and send nothing before it: a JSON answer
  // instead of an SSE stream per call (no stream, encoder or keep-alive timer per request).
  const sessions = stateless
    ? null
    : new LegacySessions({ factory, clock: ctx.clock, random: ctx.random, logger, idleTtlMs: config.mcpSessionIdleTtl * 1000, jsonResponses: true, maxAnonymousSessions: MAX_ANONYMOUS_SESSIONS });
  const resourceMetadataUrl = protectedResourceMetadataUrl(config);

  return {
    requiredScopes: (toolNames) => {
      // Per request: a call of a tool that needs no scope (or no call) builds nothing.
      const scopes = toolNames.flatMap((name) => registry.requiredScopes(name));
      return scopes.length === 0 ? NO_SCOPES : [...new Set(scopes)];
    },
    async handle(request, principal, parsedBody) {
      // Without a token (a public tool) the SDK gets no AuthInfo: its handlers see nobody.
      const authInfo = principal ? authInfoFor(principal, config.resource, resourceMetadataUrl) : undefined;
      if (sessions && (await isLegacyRequest(request, parsedBody))) return sessions.handle(request, principal, authInfo, parsedBody);
      return modern.fetch(request, { ...(authInfo ? { authInfo } : {}), parsedBody });
    },
    get sessionCount() {
      return sessions?.size ?? 0;
    },
    sweep: async () => (sessions ? sessions.sweep() : 0),
    async close() {
      await sessions?.close();
      await modern.close();
    },
  };
}
