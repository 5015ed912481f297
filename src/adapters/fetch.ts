import type { McpPolicy } from '../policy/mcp-policy.ts';
import { answerWithoutToken, type AnonymousHandler } from './anonymous.ts';
import type { AuthenticateOptions, ResourceServer } from '../resource/resource-server.ts';
import type { Principal } from '../resource/types.ts';

export interface WithMcpAuthOptions extends AuthenticateOptions {
  resourceServer: ResourceServer;
  /**
   * Tool-level authorization (`createMcpPolicy`): a forbidden `tools/call` (or `resources/read`,
   * `prompts/get`) is refused before the handler runs, and list answers show only what the caller may use.
   */
  toolPolicy?: McpPolicy;
  /** Serves callers without a token when `toolPolicy` makes something `public` (./anonymous.ts). Without it, every request needs a token. */
  anonymous?: AnonymousHandler;
}

/**
 * Wraps a fetch-style handler (`Request` → `Response`: Next.js App Router route handlers, Cloudflare
 * Workers, Deno, Bun): the handler runs only for a verified caller and gets the principal as its
 * second argument; any further arguments (Next's route context, a Worker's `env` and `ctx`) follow.
 * Requests for the Protected Resource Metadata paths are answered too.
 *
 * ```ts
 * const handler = withMcpAuth((request, auth) => …, { resourceServer: rs });
 * export { handler as GET, handler as POST, handler as DELETE };
 * ```
 */
export function withMcpAuth<A extends unknown[]>(
  handler: (request: Request, auth: Principal, ...args: A) => Response | Promise<Response>,
  options: WithMcpAuthOptions,
): (request: Request, ...args: A) => Promise<Response> {
  const { resourceServer, toolPolicy, anonymous, ...authOptions } = options;
  return async (request, ...args) => {
    const metadata = resourceServer.metadataResponse(request);
    if (metadata) return metadata;
    const result = await resourceServer.authenticate(request, authOptions);
    if (result instanceof Response) return answerWithoutToken(request, result, toolPolicy, anonymous);
    if (!toolPolicy) return handler(request, result, ...args);
    const checked = await toolPolicy.check(request, result);
    if (!checked.ok) return checked.response;
    return checked.filter(await handler(request, result, ...args));
  };
}

/**
 * A route handler serving the Protected Resource Metadata wherever it is mounted (e.g. Next.js
 * `app/.well-known/oauth-protected-resource/[[...path]]/route.ts`), for `GET`, `HEAD` and `OPTIONS`.
 */
export function metadataHandler(server: ResourceServer): (request: Request) => Response {
  const canonical = new URL(server.resourceMetadataUrl);
  return (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS') {
      return new Response(null, { status: 405, headers: { Allow: 'GET, HEAD, OPTIONS' } });
    }
    return server.metadataResponse(new Request(canonical, { method: request.method })) ?? new Response(null, { status: 404 });
  };
}
