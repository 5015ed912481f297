/**
 * The Worker under workerd on this machine (Miniflare from npm), for `npm run dev:workers` and the
 * tests in test/workers/: the bundle `wrangler deploy` would upload (its dry run), a local D1 database
 * kept in a folder, and the Cron Trigger of wrangler.jsonc.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Miniflare, Request as MiniflareRequest, Response as MiniflareResponse } from 'miniflare';

const ROOT = new URL('../../', import.meta.url).pathname;
const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');

/** As in wrangler.jsonc. */
export const COMPATIBILITY_DATE = '2026-11-01';
export const COMPATIBILITY_FLAGS = ['nodejs_compat'];
export const CRON = '*/10 * * * *';

export interface WorkerBundle {
  /** The Worker's module, as `wrangler deploy` would upload it. */
  code: string;
  /** Its size in bytes. */
  bytes: number;
  /** What wrangler printed (with `Total Upload: … / gzip: …`). */
  report: string;
}

/** Bundles the Worker exactly as `wrangler deploy` would (`--dry-run --outdir`), from wrangler.jsonc. */
export async function buildWorkerBundle(): Promise<WorkerBundle> {
  const outdir = await mkdtemp(join(tmpdir(), 'portcullis-worker-'));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [WRANGLER, 'deploy', '--dry-run', '--outdir', outdir], {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1' },
      timeout: 120_000,
    });
    const code = await readFile(join(outdir, 'workers.js'), 'utf8');
    return { code, bytes: Buffer.byteLength(code), report: stdout };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

export interface LocalWorkerOptions {
  code: string;
  host: string;
  port: number;
  /** Where D1 keeps its data: the same folder on the next start keeps it. */
  persistTo: string;
  /** The Worker's variables and secrets. */
  vars: Record<string, string>;
  /** Answers the Worker's outbound fetches (in this process); default: the network, as workerd does. */
  outbound?: (request: Request) => Promise<Response>;
  /** Each line the Worker logs; default: workerd prints it. */
  onLog?: (line: string) => void;
  /**
   * More copies of the Worker on the same D1 database, each its own isolate with memory of its own,
   * as Cloudflare runs many (tests: state that must be shared is). Reached with
   * `mf.getWorker(replicaName(n))`; the port serves the first. Default 0.
   */
  replicas?: number;
}

/** The name of the n-th replica (1-based) of the Worker. */
export const replicaName = (n: number): string => `portcullis-replica-${n}`;

export function createLocalWorker(options: LocalWorkerOptions): Miniflare {
  const outbound = options.outbound;
  const names = ['portcullis', ...Array.from({ length: options.replicas ?? 0 }, (_, i) => replicaName(i + 1))];
  return new Miniflare({
    host: options.host,
    port: options.port,
    resourcePersistencePath: options.persistTo,
    ...(options.onLog ? { handleStructuredLogs: ({ message }: { message: string }) => options.onLog!(message) } : {}),
    workers: names.map((name) => ({
        config: {
          name,
          compatibilityDate: COMPATIBILITY_DATE,
          compatibilityFlags: COMPATIBILITY_FLAGS,
          manifest: { mainModule: 'workers.js', modules: { 'workers.js': { type: 'esm', contents: options.code } } },
          env: {
            // One database for every copy.
            DB: { type: 'd1', id: 'portcullis-local' },
            ...Object.fromEntries(Object.entries(options.vars).map(([name, value]) => [name, { type: 'text' as const, value }])),
          },
          triggers: [{ type: 'scheduled', schedule: CRON }],
        },
        dev: outbound ? { outboundService: { type: 'fetcher' as const, handler: (request: MiniflareRequest) => relayOutbound(request, outbound) } } : {},
      })),
  });
}

/** Statuses whose response has no body (a Response with one cannot even be built). */
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/**
 * Miniflare hands the outbound service its own (bundled undici's) Request and wants its own Response
 * back: the request is rebuilt as this process's, and the answer's body is passed on as a stream,
 * unbuffered, so server-sent events reach the Worker as they are sent.
 */
async function relayOutbound(request: MiniflareRequest, outbound: (request: Request) => Promise<Response>): Promise<MiniflareResponse> {
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
  const answer = await outbound(new Request(request.url, { method: request.method, headers: [...request.headers], body, redirect: 'manual' }));
  const relayed = NULL_BODY_STATUS.has(answer.status) ? null : answer.body;
  return new MiniflareResponse(relayed as never, { status: answer.status, statusText: answer.statusText, headers: [...answer.headers] });
}
