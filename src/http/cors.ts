import type { MiddlewareHandler } from 'hono';

/**
 * CORS for the endpoints browser-based MCP clients read (metadata, JWKS, token, register, revoke,
 * userinfo, the MCP endpoint itself). Never for /authorize, login or consent (RFC 9700 §2.6): those
 * are navigations, not fetches. Credentials (cookies) are never allowed cross-origin.
 */
export function corsFor(allowOrigin: (origin: string) => boolean = () => true): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header('Origin');
    const allowed = origin !== undefined && allowOrigin(origin);
    if (c.req.method === 'OPTIONS' && c.req.header('Access-Control-Request-Method')) {
      const headers = new Headers({ Vary: 'Origin', 'Access-Control-Max-Age': '600' });
      if (allowed) {
        headers.set('Access-Control-Allow-Origin', origin);
        headers.set('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
        headers.set(
          'Access-Control-Allow-Headers',
          c.req.header('Access-Control-Request-Headers') ?? 'Authorization, DPoP, Content-Type, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID',
        );
      }
      return new Response(null, { status: 204, headers });
    }
    await next();
    c.res.headers.append('Vary', 'Origin');
    if (allowed) {
      c.res.headers.set('Access-Control-Allow-Origin', origin);
      // DPoP-Nonce (RFC 9449 §8, §9): a browser client must read it to make its next proof.
      c.res.headers.set('Access-Control-Expose-Headers', 'WWW-Authenticate, DPoP-Nonce, Mcp-Session-Id, Mcp-Protocol-Version');
    }
    return undefined;
  };
}
