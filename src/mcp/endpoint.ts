import { createMcpHandler, isJsonContentType, isLegacyRequest } from '@modelcontextprotocol/server';
import type { Hono } from 'hono';
import { createGateway } from '../gateway/gateway.ts';
import type { AppContext } from '../context.ts';
import { corsFor } from '../http/cors.ts';
import { createMcpResourceGuard } from '../resource/external.ts';
import type { ResourceServer } from '../resource/resource-server.ts';
import { authInfoFor } from './auth-info.ts';
import { calledToolNames, jsonRpcError, readJsonBody } from './json-rpc.ts';
import { createOriginPolicy } from './origin.ts';
import { createMcpServerFactory } from './server-factory.ts';
import { LegacySessions } from './sessions.ts';
import { builtInTools } from './tools/built-in.ts';
import { createToolRegistry, type ToolDefinition } from './tools/registry.ts';

export interface McpEndpoint {
  /** 2025-era sessions (exposed for tests and shutdown). */
  readonly sessions: LegacySessions;
  /** Ends every session and in-flight exchange: call on graceful shutdown. */
  close(): Promise<void>;
}

export interface McpEndpointOptions {
  /** Tools to offer; defaults to the built-in tools whose scopes are configured. */
  tools?: readonly ToolDefinition[];
  /**
   * Who may call it; defaults to `createMcpResourceGuard(ctx)`: our own tokens, or in resource-only
   * mode those of the configured authorization server.
   */
  guard?: ResourceServer;
}

const mounted = new WeakMap<AppContext, McpEndpoint[]>();

/** How much of a request without credentials is read, only to name its call's scopes in the 401. */
const UNAUTHENTICATED_BODY_LIMIT = 64 * 1024;

/** Closes the MCP endpoints mounted for `ctx` (for shutdown code that only holds the context). */
export async function closeMcpEndpoint(ctx: AppContext): Promise<void> {
  await Promise.all((mounted.get(ctx) ?? []).map((e) => e.close()));
}

/** The endpoint mounted last for `ctx` (tests use it to reach the session table). */
export function mcpEndpointOf(ctx: AppContext): McpEndpoint | undefined {
  return mounted.get(ctx)?.at(-1);
}

/**
 * The MCP endpoint (Streamable HTTP, official SDK) at `config.mcpPath`. For every request, in order:
 * `Origin` check (403, RS-24) → CORS preflight for allowed origins → bearer token verification
 * (401, RS-17/RS-21: POST, GET and DELETE alike) → per-tool scope check of a `tools/call` (403
 * step-up challenge, RS-12) → the SDK: 2026-07-28 requests per request, 2025-era requests in
 * sessions bound to the token's user and client (RS-22/RS-23). In gateway mode (`upstream` set) the
 * last step is the upstream MCP server instead (src/gateway/gateway.ts).
 *
 * `tools/list` lists every tool, including ones the token lacks scope for: a client can see what
 * stepping up would unlock, and calling such a tool yields the challenge that says how.
 */
export function mountMcpEndpoint(app: Hono, ctx: AppContext, options: McpEndpointOptions = {}): McpEndpoint {
  const { config, logger } = ctx;
  const isAllowedOrigin = createOriginPolicy(config);
  const guard = options.guard ?? createMcpResourceGuard(ctx);
  const tools = options.tools ?? builtInTools.filter((t) => t.requiredScopes.every((s) => config.scopeNames.has(s)));
  const registry = createToolRegistry(tools, config.scopeNames);
  const factory = createMcpServerFactory(ctx, registry);
  const modern = createMcpHandler(factory, { legacy: 'reject', onerror: (error) => logger.debug('mcp request rejected', { error }) });
  const sessions = new LegacySessions({ factory, clock: ctx.clock, random: ctx.random, logger, idleTtlMs: config.mcpSessionIdleTtl * 1000 });
  // Gateway mode: the same checks, then the upstream MCP server instead of the built-in one.
  const gateway = config.upstream ? createGateway(ctx, config.upstream) : undefined;

  app.use(config.mcpPath, async (c, next) => {
    const origin = c.req.header('Origin');
    if (origin !== undefined && !isAllowedOrigin(origin)) {
      logger.debug('mcp request from a disallowed origin', { origin });
      return jsonRpcError(403, -32000, 'Forbidden: this Origin may not call the MCP endpoint');
    }
    return next();
  });
  app.use(config.mcpPath, corsFor(isAllowedOrigin));

  /** Every scope a request needs, in one set (RS-13b): its tools' scopes, and in gateway mode the base scopes. */
  const requiredScopesFor = (message: unknown): string[] => {
    const called = message === undefined ? [] : calledToolNames(message);
    return gateway ? gateway.requiredScopes(called) : [...new Set(called.flatMap((name) => registry.requiredScopes(name)))];
  };

  app.all(config.mcpPath, async (c) => {
    const request = c.req.raw;
    const isJsonPost = request.method === 'POST' && isJsonContentType(request.headers.get('Content-Type'));
    // The token first (RS-17): nothing is read or run for a request that is not authenticated, but
    // for one that brought no credentials at all, whose small body (64 KiB at most) is read to name
    // the scopes its call needs in the 401 (RS-04): a client that starts over without a token (the
    // v1 SDK after a 403) then asks for enough scope at once.
    const principal = await guard.authenticate(request, { requiredScopes: requiredScopesFor(undefined) });
    if (principal instanceof Response) {
      if (principal.status !== 401 || !isJsonPost || request.headers.has('Authorization')) return principal;
      const small = await readJsonBody(request, UNAUTHENTICATED_BODY_LIMIT);
      const call = small.ok && typeof small.value === 'object' && small.value !== null ? small.value : undefined;
      if (call === undefined) return principal;
      const named = await guard.authenticate(request, { requiredScopes: requiredScopesFor(call) });
      return named instanceof Response ? named : principal;
    }

    if (request.method !== 'POST' && request.method !== 'GET' && request.method !== 'DELETE') {
      return jsonRpcError(405, -32000, 'Method not allowed', { Allow: 'GET, POST, DELETE' });
    }
    let parsedBody: unknown;
    if (request.method === 'POST') {
      if (!isJsonPost) return jsonRpcError(415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
      const body = await readJsonBody(request);
      if (!body.ok) return body.response;
      if (typeof body.value !== 'object' || body.value === null) return jsonRpcError(400, -32600, 'Invalid Request: expected a JSON-RPC message');
      parsedBody = body.value;
      // Every scope the whole request needs, in one challenge (RS-13b), before any tool runs.
      const refusal = guard.requireScopes(principal, requiredScopesFor(parsedBody));
      if (refusal) return refusal;
    }

    if (gateway) return gateway.upstream.handle(request, principal, parsedBody);

    const authInfo = authInfoFor(principal, config.resource, guard.resourceMetadataUrl);
    if (await isLegacyRequest(request, parsedBody)) return sessions.handle(request, principal, authInfo, parsedBody);
    return modern.fetch(request, { authInfo, parsedBody });
  });

  const endpoint: McpEndpoint = {
    sessions,
    async close() {
      await sessions.close();
      await modern.close();
      await gateway?.upstream.close();
    },
  };
  mounted.set(ctx, [...(mounted.get(ctx) ?? []), endpoint]);
  return endpoint;
}
