import type { MiddlewareHandler } from 'hono';
import type { AuthenticateOptions, ResourceServer } from '../resource/resource-server.ts';
import type { Principal } from '../resource/types.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The verified caller, set by `honoAuth`. */
    auth: Principal;
  }
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
export function honoAuth(server: ResourceServer, options: AuthenticateOptions = {}): MiddlewareHandler {
  return async (c, next) => {
    const result = await server.authenticate(c.req.raw, options);
    if (result instanceof Response) return result;
    c.set('auth', result);
    await next();
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
