/**
 * Portcullis as a Cloudflare Worker under workerd (Miniflare from npm), for the tests in this folder:
 * the bundle wrangler deploys, a local D1 database, and a real socket on 127.0.0.1 that clients reach
 * over HTTP. Nothing leaves the machine: every fetch the Worker makes goes to `outbound` (Miniflare's
 * outbound service), which hands it to in-process fixtures or loopback servers, and is recorded.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Miniflare } from 'miniflare';
import { buildWorkerBundle, createLocalWorker, CRON, replicaName, type WorkerBundle } from '../../scripts/workers/local.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
let bundle: Promise<WorkerBundle> | undefined;

/**
 * The Worker as `wrangler deploy` would build it; built once per version of the sources and kept in
 * the temporary folder, so the test files (each its own process) do not all bundle it again.
 */
export const workerBundle = (): Promise<WorkerBundle> => (bundle ??= cachedBundle());

async function cachedBundle(): Promise<WorkerBundle> {
  const hash = createHash('sha256');
  for (const file of [...(await sourceFiles(join(ROOT, 'src'))), join(ROOT, 'wrangler.jsonc'), join(ROOT, 'package-lock.json')]) {
    hash.update(file).update(await readFile(file));
  }
  const cached = join(tmpdir(), `portcullis-worker-${hash.digest('hex').slice(0, 16)}.json`);
  try {
    return JSON.parse(await readFile(cached, 'utf8')) as WorkerBundle;
  } catch {
    const built = await buildWorkerBundle();
    const aside = `${cached}.${process.pid}`;
    await writeFile(aside, JSON.stringify(built));
    await rename(aside, cached);
    // Bundles of earlier sources are of no more use: one is kept, not one per edit.
    for (const name of await readdir(tmpdir())) {
      if (/^portcullis-worker-[0-9a-f]{16}\.json$/.test(name) && join(tmpdir(), name) !== cached) await rm(join(tmpdir(), name), { force: true });
    }
    return built;
  }
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

export interface StartWorkerOptions {
  /** Variables and secrets; PORTCULLIS_PUBLIC_URL and the key-encryption key are set unless given. */
  vars?: Record<string, string>;
  /**
   * Answers the Worker's outbound fetches (Stytch, an upstream MCP server, client documents). Without
   * it, or when it returns undefined, the fetch gets a 502, as from an unreachable host.
   */
  outbound?: (request: Request) => Promise<Response | undefined> | Response | undefined;
  /** Where D1 keeps its data (a restart on the same folder keeps it); default: a fresh temporary folder. */
  persistTo?: string;
  /** Listen on this port (a restart keeps its public URL); default: a free one. */
  port?: number;
  /** More copies of the Worker (isolates with no memory in common) on the same D1 database. */
  replicas?: number;
}

export interface WorkerServer {
  /** http://127.0.0.1:<port>, the Worker's public URL. */
  origin: string;
  port: number;
  mf: Miniflare;
  /** `METHOD url` of every fetch the Worker made, in order. */
  outboundRequests: string[];
  /** What the Worker logged, one line each. */
  logs: string[];
  /** Runs the Cron Trigger once, as Cloudflare would. */
  runCron(): Promise<void>;
  /** A fetch that reaches the n-th replica (1-based) instead, with the same URLs: another isolate of the same Worker. */
  replicaFetch(n: number): typeof fetch;
  close(): Promise<void>;
}

/** A key-encryption key for tests (any 32 bytes in base64url). */
export const TEST_KEK = Buffer.alloc(32, 7).toString('base64url');

export async function startWorker(options: StartWorkerOptions = {}): Promise<WorkerServer> {
  const { code } = await workerBundle();
  const port = options.port ?? (await freePort());
  const origin = `http://127.0.0.1:${port}`;
  const persistTo = options.persistTo ?? (await mkdtemp(join(tmpdir(), 'portcullis-d1-')));
  const outboundRequests: string[] = [];
  const logs: string[] = [];
  const mf = createLocalWorker({
    code,
    host: '127.0.0.1',
    port,
    persistTo,
    vars: { PORTCULLIS_PUBLIC_URL: origin, PORTCULLIS_KEY_ENCRYPTION_KEY: TEST_KEK, LOG_LEVEL: 'debug', ...options.vars },
    onLog: (line) => void logs.push(line),
    replicas: options.replicas ?? 0,
    outbound: async (request) => {
      outboundRequests.push(`${request.method} ${request.url}`);
      return (await options.outbound?.(request)) ?? new Response('unreachable in tests', { status: 502 });
    },
  });
  await mf.ready;
  return {
    origin,
    port,
    mf,
    outboundRequests,
    logs,
    async runCron() {
      const result = await (await mf.getWorker()).scheduled({ scheduledTime: new Date(), cron: CRON });
      if (result.outcome !== 'ok') throw new Error(`the scheduled handler ended with ${result.outcome}`);
    },
    replicaFetch(n) {
      return async (input, init) => {
        const request = new Request(input, init);
        const worker = await mf.getWorker(replicaName(n));
        const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
        const answer = await worker.fetch(request.url, { method: request.method, headers: [...request.headers], body, redirect: 'manual' });
        return new Response(answer.body as ReadableStream | null, { status: answer.status, statusText: answer.statusText, headers: [...answer.headers] });
      };
    },
    async close() {
      await mf.dispose();
      if (!options.persistTo) await rm(persistTo, { recursive: true, force: true });
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
