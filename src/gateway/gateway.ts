import type { UpstreamSettings } from '../config/upstream.ts';
import type { AppContext } from '../context.ts';
import type { McpBackend } from '../mcp/backend.ts';
import { createHttpUpstream } from './http/upstream.ts';
import { createStdioUpstream } from './stdio/upstream.ts';
import type { Upstream } from './upstream.ts';
import { secondsSince, type Metrics } from '../metrics/metrics.ts';

/**
 * Gateway mode (`upstream` set): the MCP backend chosen at assembly instead of the built-in SDK
 * server. The MCP endpoint checks Origin, token and scopes exactly as in the core, then hands the
 * request to the upstream.
 *
 * Scopes: every request needs `upstream.requiredScopes` (by default the one scope `mcp`, "Use the
 * tools of <serverName>"), and a `tools/call` of a tool named in `upstream.toolScopes` needs its
 * scopes as well; a token without them gets the core's 403 `insufficient_scope` challenge naming
 * all of them (RS-12, RS-13b), before anything reaches the upstream. The endpoint's tool policy
 * (`toolPolicy`, src/policy/) applies as in the core: a forbidden `tools/call` never reaches the
 * upstream, and the upstream's `tools/list` answers reach the client with only what it may call.
 *
 * Seed 2's side doors stay shut: there is no legacy HTTP+SSE `/sse` or `/messages` (its
 * `/messages` proxied without any authentication, defect 8) and no `/status` or `/debug` that would
 * disclose the upstream (defect 15); `/healthz` and `/readyz` say nothing about it.
 */
export function createGateway(ctx: AppContext, settings: UpstreamSettings): McpBackend {
  const upstream: Upstream = settings.url !== undefined
    ? createHttpUpstream(ctx, { ...settings, url: settings.url })
    : createStdioUpstream(ctx, { ...settings, command: settings.command ?? '' });
  return {
    // `Object.hasOwn`: a tool named `constructor` or `__proto__` must not read Object.prototype.
    requiredScopes: (toolNames) => [...new Set([...settings.requiredScopes, ...toolNames.flatMap((name) => (Object.hasOwn(settings.toolScopes, name) ? settings.toolScopes[name] ?? [] : []))])],
    // The upstreams' functions are closures (no `this`): the endpoint calls them directly.
    handle: ctx.metrics ? timedUpstream(upstream.handle, ctx.metrics, settings.url !== undefined ? 'http' : 'stdio') : upstream.handle,
    get sessionCount() {
      return upstream.sessionCount;
    },
    sweep: upstream.sweep,
    close: upstream.close,
  };
}

/**
 * The upstream's latency (until the gateway has the response headers) and its failures: the
 * gateway's own 502 (unavailable, refusing) and 504 (timeout), by transport.
 */
function timedUpstream(handle: Upstream['handle'], metrics: Metrics, transport: 'http' | 'stdio'): Upstream['handle'] {
  const seconds = metrics.upstreamSeconds.labels({ transport });
  return async (...args) => {
    const start = performance.now();
    const response = await handle(...args);
    seconds.observe(secondsSince(start));
    if (response.status === 502 || response.status === 504) metrics.upstreamErrors.inc({ transport, status: String(response.status) });
    return response;
  };
}
