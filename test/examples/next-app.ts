/**
 * The Next.js example without Next.js: its App Router route modules imported in-process and called as
 * Next calls them, `export`ed method handler `(request, { params })`, a `405` for a method the route
 * does not export, a `404` for a path no route matches. Next itself is not installed (too heavy, and
 * route handlers are plain web-standard functions).
 */
type RouteHandler = (request: Request, context: { params: Promise<Record<string, string | string[]>> }) => Response | Promise<Response>;
type RouteModule = Partial<Record<string, RouteHandler>>;

const APP = new URL('../../examples/next/app/', import.meta.url);

/**
 * Imports the example's routes with `env` in `process.env` (they read it on import, as on a Next.js
 * server) and returns a `fetch` that serves them. Once per process: modules are cached. `app`: the
 * example's `app/` folder (this repository's, or a copy in a project that installed the package).
 */
export async function loadNextExample(env: Record<string, string>, app: URL = APP): Promise<typeof fetch> {
  Object.assign(process.env, env);
  const mcp = (await import(new URL('mcp/route.ts', app).href)) as RouteModule;
  const metadata = (await import(new URL('.well-known/oauth-protected-resource/[[...path]]/route.ts', app).href)) as RouteModule;
  const routes: { match: (path: string) => Record<string, string | string[]> | null; module: RouteModule }[] = [
    { match: (path) => (path === '/mcp' ? {} : null), module: mcp },
    {
      match: (path) => {
        const m = /^\/\.well-known\/oauth-protected-resource(?:\/(.*))?$/.exec(path);
        return m ? (m[1] ? { path: m[1].split('/') } : {}) : null;
      },
      module: metadata,
    },
  ];
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    for (const route of routes) {
      const params = route.match(path);
      if (!params) continue;
      const handler = route.module[request.method];
      if (!handler) return new Response(null, { status: 405 });
      return handler(request, { params: Promise.resolve(params) });
    }
    return new Response(null, { status: 404 });
  }) as typeof fetch;
}
