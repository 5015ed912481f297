import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';
import { issueAccessToken } from '../../src/authorization/access-token.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createUser } from '../../src/identity/users.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { randomId, systemRandom } from '../../src/util/crypto.ts';
import { registerPublicClient } from '../helpers/oauth-flow.ts';
import { grantRecord } from '../helpers/records.ts';

/**
 * Runs the official `@modelcontextprotocol/conformance` CLI against a real Portcullis on 127.0.0.1.
 * The CLI needs Node ≥ 22, so it is spawned with `process.execPath` (the Node running the tests)
 * and the package's own bin script, never a bare `npx` (which could download something).
 */

const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));

/** The two installed releases: 0.1.16 (`latest`) and the 0.2.0 alpha that has the `authorization` command. */
export const CONFORMANCE_CLI = {
  stable: join(NODE_MODULES, '@modelcontextprotocol/conformance/dist/index.js'),
  alpha: join(NODE_MODULES, 'conformance-alpha/dist/index.js'),
} as const;

export const conformanceVersion = (release: keyof typeof CONFORMANCE_CLI): string =>
  (JSON.parse(readFileSync(join(CONFORMANCE_CLI[release], '../../package.json'), 'utf8')) as { version: string }).version;

export const CONFORMANCE_USER = { username: 'conformance', password: 'conformance suite test password' } as const;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Spawns the CLI with a bounded run time (SIGKILL on timeout) and an environment that holds nothing
 * but PATH and HOME: no proxy settings, no GITHUB_TOKEN (only its `tier-check` command reads it), no
 * NODE_OPTIONS from the test runner. `onStdout` sees output as it arrives (e.g. the authorization URL).
 */
export function runConformanceCli(
  release: keyof typeof CONFORMANCE_CLI,
  args: string[],
  options: { timeoutMs: number; onStdout?: (chunk: string, all: string) => void; cwd?: string },
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CONFORMANCE_CLI[release], ...args], {
      cwd: options.cwd ?? tmpdir(),
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(chunk, stdout);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** One check as the CLI writes it to `checks.json` (`-o outdir`). */
export interface ConformanceCheck {
  id: string;
  name: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  errorMessage?: string;
  details?: Record<string, unknown>;
}

/** Every `checks.json` under `dir`, keyed by the scenario directory it was written to. */
export function readChecks(dir: string): Map<string, ConformanceCheck[]> {
  const out = new Map<string, ConformanceCheck[]>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name === 'checks.json') out.set(d.slice(dir.length + 1), JSON.parse(readFileSync(path, 'utf8')) as ConformanceCheck[]);
    }
  };
  walk(dir);
  return out;
}

export function temporaryDirectory(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------------
// A real Portcullis behind a public front

export interface FrontedPortcullis {
  /** The public origin (the front): what the issuer, the resource and the conformance CLI's --url name. */
  origin: string;
  portcullis: Portcullis;
  clock: ManualClock;
  close(): Promise<void>;
}

/**
 * Portcullis on 127.0.0.1 behind a tiny reverse proxy, which is its public origin (like a TLS
 * terminator in production): the issuer and the MCP resource name the proxy's port. When `bearer`
 * is given, the proxy adds `Authorization: Bearer <token>` to every request that has none. That is
 * test-only: the conformance CLI's server mode cannot send a token (reference §3.5). Host and Origin
 * pass through unchanged, so the MCP endpoint's Origin check (RS-24) sees what the CLI sent.
 */
export async function startFrontedPortcullis(config: ConfigInput = {}): Promise<FrontedPortcullis & { setBearer(token: string | null): void }> {
  let bearer: string | null = null;
  let handle: (request: Request, env: unknown) => Response | Promise<Response> = () => new Response('starting', { status: 503 });
  const backend = createAdaptorServer({ fetch: (request, env) => handle(request, env) }) as Server;
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const backendPort = (backend.address() as AddressInfo).port;

  const front = createServer((incoming, outgoing) => {
    const headers = { ...incoming.headers };
    if (bearer !== null && headers.authorization === undefined) headers.authorization = `Bearer ${bearer}`;
    const upstream = httpRequest({ host: '127.0.0.1', port: backendPort, method: incoming.method, path: incoming.url, headers }, (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    });
    upstream.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;

  const clock = new ManualClock(Date.now());
  const storage = await openSqliteStorage(':memory:');
  const portcullis = await createPortcullis({
    config: resolveConfig({ publicUrl: origin, database: ':memory:', ...config }),
    storage,
    clock,
    logger: createMemoryLogger(),
  });
  handle = (request, env) => portcullis.app.fetch(request, env);
  await createUser(storage, CONFORMANCE_USER, { now: clock.now(), random: systemRandom });

  const closeServer = (server: Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    origin,
    portcullis,
    clock,
    setBearer(token) {
      bearer = token;
    },
    close: () =>
      portcullis.close({
        drain: async () => {
          await closeServer(front);
          await closeServer(backend);
        },
      }),
  };
}

/**
 * An access token for the MCP resource with every configured scope, minted by the real token code
 * for the conformance user through a client and a live grant (as test/resource/fixtures.ts does).
 */
export async function mintAccessToken(portcullis: Portcullis): Promise<string> {
  const { ctx } = portcullis;
  const now = ctx.clock.now();
  const user = await ctx.storage.users.byUsername(CONFORMANCE_USER.username);
  if (!user) throw new Error('the conformance user is missing');
  const { clientId } = await registerPublicClient(ctx.storage, { redirectUris: ['http://127.0.0.1/callback'], clientName: 'MCP conformance suite' });
  const scopes = [...ctx.config.scopeNames];
  const grantId = 'grt_' + randomId(ctx.random);
  await ctx.storage.grants.create(grantRecord({ id: grantId, userId: user.id, clientId, scopes, resource: ctx.config.resource, createdAt: now }));
  const { token } = await issueAccessToken(ctx, { subject: user.id, clientId, scopes, resource: ctx.config.resource, grantId });
  return token;
}
