import { isJsonContentType } from '@modelcontextprotocol/server';
import type { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import { corsFor } from '../http/cors.ts';
import { createMcpResourceGuard } from '../resource/external.ts';
import type { ResourceServer } from '../resource/resource-server.ts';
import type { McpBackend } from './backend.ts';
import { calledToolNames } from '../policy/mcp-messages.ts';
import { isInitialize, jsonRpcError, readJsonBody } from './json-rpc.ts';
import { clientAddress, createRateLimiter } from '../http/rate-limit.ts';
import { createOriginPolicy } from './origin.ts';
import { requestNotes } from '../http/request-log.ts';
import { createEndpointPolicy } from './tool-policy.ts';
import { signInResult } from '../policy/sign-in-result.ts';

export interface McpEndpointOptions {
  /** What serves requests once they are checked: the built-in server or the gateway's upstream. Its owner closes it. */
  backend: McpBackend;
  /**
   * Who may call it; defaults to `createMcpResourceGuard(ctx)`: our own tokens, or in resource-only
   * mode those of the configured authorization server.
   */
  guard?: ResourceServer;
}

const NO_TOOLS: readonly string[] = Object.freeze([]);

/** How much of a request without credentials is read, only to name its call's scopes in the 401. */
const UNAUTHENTICATED_BODY_LIMIT = 64 * 1024;
/**
 * Sessions one address may open per minute without a token (public tools). Each one holds a slot of
 * the shared anonymous pool (a process, with a stdio upstream) until it ends or idles out; a client
 * opens one and keeps it, so 30 a minute leaves room for many behind one NAT.
 */
const ANONYMOUS_INITIALIZE_PER_MINUTE = 30;

/**
 * The MCP endpoint (Streamable HTTP, official SDK) at `config.mcpPath`. For every request, in order:
 * `Origin` check (403, RS-24) → CORS preflight for allowed origins → access token verification,
 * bearer or DPoP-bound with its proof (401, RS-17/RS-21, RFC 9449 §7: POST, GET and DELETE alike) → the tool policy (src/policy/, configured by
 * `toolPolicy`; ./tool-policy.ts): `Mcp-Method`/`Mcp-Name` checked against the body (400), then
 * every `tools/call`, `resources/read` and `prompts/get` decided (403 step-up challenge naming the
 * scopes, RS-12, or a JSON-RPC error when no scope would help) → the SDK: 2026-07-28 requests per
 * request, 2025-era requests in sessions bound to the token's user and client (RS-22/RS-23). That
 * last step is the backend's: the built-in server (./built-in.ts), or in gateway mode the upstream
 * MCP server (src/gateway/gateway.ts). Its answers to `tools/list` (and the resource and prompt
 * lists) show only what the caller may use, unless `toolPolicy.filterLists` is off.
 *
 * With `toolPolicy.public`, a request without any credentials is not refused at once: when all it
 * does is what the policy lets anyone do (initialize, the lists, a public tool), the backend serves
 * it with no principal; anything else gets the very 401 it always did. Such a caller's `initialize`
 * is rate-limited per address (429), and the backend's pool of sessions without a token refuses a
 * newcomer when full (503) rather than ending someone else's.
 */
export function mountMcpEndpoint(app: Hono, ctx: AppContext, options: McpEndpointOptions): void {
  const { config, logger } = ctx;
  const isAllowedOrigin = createOriginPolicy(config);
  const guard = options.guard ?? createMcpResourceGuard(ctx);
  const { backend } = options;
  const toolPolicy = createEndpointPolicy(ctx, backend, guard);

  app.use(config.mcpPath, async (c, next) => {
    const origin = c.req.header('Origin');
    if (origin !== undefined && !isAllowedOrigin(origin)) {
      logger.debug('mcp request from a disallowed origin', { origin });
      return jsonRpcError(403, -32000, 'Forbidden: this Origin may not call the MCP endpoint');
    }
    return next();
  });
  app.use(config.mcpPath, corsFor(isAllowedOrigin));

  /**
   * Every scope a request needs, in one set (RS-13b): in gateway mode the base scopes, and the
   * scopes its tools declare or the tool policy's rules require of them.
   */
  const requiredScopesFor = (message: unknown): readonly string[] => {
    const tools = message === undefined ? NO_TOOLS : calledToolNames(message);
    const base = backend.requiredScopes(tools);
    return tools.length === 0 ? base : [...new Set([...base, ...tools.flatMap((name) => toolPolicy.policy.scopesFor({ kind: 'tool', name }))])];
  };
  /** Some tools, resources or prompts are public: requests without a token are looked at, not refused outright. */
  const publicMode = toolPolicy.policy.hasPublic;
  /** What every request needs before its body is read: the same for every request, so computed once. */
  const scopesBeforeBody = requiredScopesFor(undefined);
  const anonymousSessionLimit = createRateLimiter({ name: 'mcp-anonymous-initialize', perMinute: ANONYMOUS_INITIALIZE_PER_MINUTE, storage: ctx.storage, clock: ctx.clock, metrics: ctx.metrics });

  app.all(config.mcpPath, async (c) => {
    const request = c.req.raw;
    // A DPoP proof's `htu` is checked against the public MCP URL, whatever URL a proxy in front forwarded to.
    const authentication = { headers: request.headers, method: request.method, url: config.resource };
    const isJsonPost = request.method === 'POST' && isJsonContentType(request.headers.get('Content-Type'));
    // The token first (RS-17): nothing is read or run for a request that is not authenticated, but
    // for one that brought no credentials at all, whose small body (64 KiB at most) is read to name
    // the scopes its call needs in the 401 (RS-04): a client that starts over without a token (the
    // v1 SDK after a 403) then asks for enough scope at once.
    const principal = await guard.authenticate(authentication, { requiredScopes: scopesBeforeBody });
    if (principal instanceof Response) {
      if (principal.status !== 401 || request.headers.has('Authorization')) return principal;
      // Public tools: a caller without a token may keep up its own session without one (its GET
      // stream, its DELETE); the session table shows it no one else's (./session-table.ts).
      if (publicMode && (request.method === 'GET' || request.method === 'DELETE') && request.headers.has('Mcp-Session-Id')) return backend.handle(request, null, undefined);
      if (!isJsonPost) return principal;
      const small = await readJsonBody(request, UNAUTHENTICATED_BODY_LIMIT);
      const call = small.ok && typeof small.value === 'object' && small.value !== null ? small.value : undefined;
      if (call === undefined) return principal;
      if (publicMode) {
        // Only what the policy lets anyone do runs without a token; everything else is challenged as ever.
        const anonymous = await toolPolicy.guard.checkAnonymous(request, call);
        if (anonymous !== 'sign-in') {
          if (!anonymous.ok) return anonymous.response;
          if (isInitialize(call)) {
            const allowed = await anonymousSessionLimit.take(clientAddress(c));
            if (!allowed.ok) return jsonRpcError(429, -32000, 'Too Many Requests: too many sessions opened without sign-in; try again later', { 'Retry-After': String(allowed.retryAfterSeconds) });
          }
          return anonymous.filter(await backend.handle(request, null, call));
        }
      }
      const named = await guard.authenticate(authentication, { requiredScopes: requiredScopesFor(call) });
      const challenge = named instanceof Response ? named : principal;
      return publicMode ? signInResult(challenge, call) : challenge;
    }
    requestNotes(c).clientId = principal.clientId;

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
      // Before anything runs: the routing headers, then the policy for every target, with every
      // scope the whole request needs in one challenge (RS-13b).
      const checked = await toolPolicy.guard.check(request, await toolPolicy.callerFor(principal), parsedBody);
      if (!checked.ok) return checked.response;
      return checked.filter(await backend.handle(request, principal, parsedBody));
    }

    return backend.handle(request, principal, parsedBody);
  });
}

