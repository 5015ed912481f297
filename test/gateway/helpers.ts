import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { signIn, type SignedIn } from '../resource/fixtures.ts';
import type { HttpUpstream } from '../fixtures/upstream/http-server.ts';

export type UpstreamInput = NonNullable<ConfigInput['upstream']>;

/** The credential the gateway presents to the upstream in these tests. */
export const GATEWAY_CREDENTIAL = 'gateway-credential-0123456789abcdef';

/** A gateway in-process (in-memory SQLite, ManualClock) whose outbound fetch is the real one, to reach 127.0.0.1 upstreams. */
export async function createGatewayApp(upstream: UpstreamInput, config: ConfigInput = {}): Promise<TestApp> {
  return createTestApp({ mcpSessionIdleTtl: 60, ...config, upstream }, { fetch: globalThis.fetch });
}

/** A user, client, grant and access token (scope `mcp` unless told otherwise), minted by the real token code. */
export function signInToGateway(t: TestApp, options: Parameters<typeof signIn>[1] = {}): Promise<SignedIn> {
  return signIn(t, { scopes: ['mcp'], ...options });
}

export const STDIO_FIXTURE = fileURLToPath(new URL('../fixtures/upstream/stdio-server.ts', import.meta.url));

/** Quotes a word for `upstream.command` (double quotes, escaping what is special inside them). */
export function quoteWord(word: string): string {
  return `"${word.replace(/["\\$`]/g, (c) => `\\${c}`)}"`;
}

/** The command line that starts the stdio fixture with this Node, e.g. in `silent` mode. */
export function stdioFixtureCommand(mode: 'normal' | 'silent' | 'exit-at-start' = 'normal'): string {
  return [process.execPath, '--experimental-strip-types', '--disable-warning=ExperimentalWarning', STDIO_FIXTURE, mode].map(quoteWord).join(' ');
}

/** The official SDK client, talking to `mcpUrl` with a bearer token (`null`: none, for public tools) through `fetch` (in-process by default). */
export async function connectWithToken(
  mcpUrl: string,
  token: string | null,
  options: { era?: 'legacy' | 'modern'; fetch?: typeof fetch } = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'gateway-test', version: '1' }, options.era === 'modern' ? { versionNegotiation: { mode: 'auto' } } : {});
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    requestInit: { headers: token === null ? {} : { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return { client, transport };
}

/** Whether a `tools/call` of `name` reached the upstream (a refused call must not). */
export const calledUpstream = (upstream: HttpUpstream, name: string): boolean => upstream.requests.some((r) => r.body.includes('tools/call') && r.body.includes(`"name":"${name}"`));

/** A fetch that calls the in-process app. */
export function appFetch(t: TestApp): typeof fetch {
  return async (input, init) => t.app.fetch(new Request(input as string | URL, init));
}

/** The app on a real loopback socket (tokens stay valid: they name the configured resource, not the socket). */
export async function serveOnLoopback(t: Pick<TestApp, 'app' | 'ctx'>): Promise<{ origin: string; mcpUrl: string; close(): Promise<void> }> {
  const server = createAdaptorServer({ fetch: (request, env) => t.app.fetch(request, env) }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    mcpUrl: origin + t.ctx.config.mcpPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Polls `condition` every 20 ms for at most `timeoutMs`. */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether a process with this id is still running. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
