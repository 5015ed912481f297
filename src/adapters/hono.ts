import type { MiddlewareHandler } from 'hono';
import type { McpPolicy } from '../policy/mcp-policy.ts';
import { answerWithoutToken, type AnonymousHandler } from './anonymous.ts';
import type { AuthenticateOptions, ResourceServer } from '../resource/resource-server.ts';
import type { Principal } from '../resource/types.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The verified caller, set by `honoAuth`. */
    auth: Principal;
  }
}

export interface HonoAuthOptions extends AuthenticateOptions {
  /**
   * Tool-level authorization (`createMcpPolicy`): a forbidden `tools/call` (or `resources/read`,
   * `prompts/get`) is refused before the next handler runs, and list answers show only what the caller may use.
   */
  toolPolicy?: McpPolicy;
  /**
   * Answers callers without a token when `toolPolicy` makes something `public` (./anonymous.ts),
   * instead of the next handler, which only ever sees a verified caller. Without it, every request needs a token.
   */
  anonymous?: AnonymousHandler;
}

/**
 * Hono middleware: lets the request through with `c.get('auth')` set to the verified principal, or
 * answers the challenge itself.
 *
 * ```ts
 * app.use(honoMetadata(rs));
 * app.all('/mcp', honoAuth(rs), (c) => … c.get('auth').subject …);
 * ```
 */
export function honoAuth(server: ResourceServer, options: HonoAuthOptions = {}): MiddlewareHandler {
  const { toolPolicy, anonymous, ...authOptions } = options;
  return async (c, next) => {
    const result = await server.authenticate(c.req.raw, authOptions);
    if (result instanceof Response) return answerWithoutToken(c.req.raw, result, toolPolicy, anonymous);
    c.set('auth', result);
    const checked = toolPolicy ? await toolPolicy.check(c.req.raw, result) : undefined;
    if (checked && !checked.ok) return checked.response;
    await next();
    if (checked) c.res = await checked.filter(c.res);
    return undefined;
  };
}

/** Hono middleware answering the Protected Resource Metadata paths; every other request goes on. */
export function honoMetadata(server: ResourceServer): MiddlewareHandler {
  return async (c, next) => {
    const response = server.metadataResponse(c.req.raw);
    if (response) return response;
    await next();
    return undefined;
  };
}
