import type { D1Database } from '../storage/d1/binding.ts';
import { ensureFirstAdmin } from '../bootstrap/first-admin.ts';
import { ConfigError } from '../config/resolve.ts';
import { keyRingSource } from '../keys/key-ring-source.ts';
import { createJsonLogger, type Logger } from '../log/logger.ts';
import { createPortcullis, type Portcullis } from '../portcullis.ts';
import { isResourceOnly } from '../resource/external.ts';
import { openD1Storage } from '../storage/d1/open.ts';
import { collectExpiredRows } from './housekeeping.ts';
import { keyReloader } from './key-reload.ts';
import { workersSettings } from './workers-config.ts';

/**
 * Portcullis on Cloudflare Workers: the same app as on Node (src/portcullis.ts), with D1 as its
 * storage, its settings from the Worker's variables and secrets (./workers-config.ts), and what Node
 * does on timers done here instead: expired rows are collected by the Cron Trigger (`scheduled`),
 * signing keys re-read by the first request a minute after the last read (./key-reload.ts). See
 * README "Deploy on Cloudflare Workers" and wrangler.jsonc.
 *
 * What must be shared lives in D1, where every isolate sees it: login and client-authentication
 * back-off, single-use codes and assertions. What stays per isolate is a cache with the same
 * staleness bounds as per process on Node (verified tokens, grant status, key sets), and the request
 * rate limits of src/http/rate-limit.ts as long as they are counted in memory. 2025-era
 * MCP requests are served without sessions (src/mcp/built-in.ts); through the gateway, an upstream
 * session's binding travels sealed in its handle (src/gateway/http/sealed-sessions.ts).
 */

export interface WorkerEnv {
  /** The D1 database (wrangler.jsonc `d1_databases`, binding `DB`). */
  DB: D1Database;
  /** Variables and secrets: the settings (docs/configuration.md, seed 2's names). */
  readonly [name: string]: unknown;
}

/** What the Worker needs of its ExecutionContext. */
interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
}

interface Instance {
  portcullis: Portcullis;
  /** Whether a request at another origin than the public URL has been reported (once per isolate). */
  reportedOtherOrigin: boolean;
  /** Re-reads the signing keys when due, in the background of the request. */
  reloadKeysWhenDue: ReturnType<typeof keyReloader>;
}

const logger: Logger = createJsonLogger({ write: (line) => console.log(line) });

/**
 * One app per isolate, built on its first request (or Cron Trigger) and kept while the isolate lives.
 * A failed start is not kept: the next request tries again (a secret set since, D1 reachable again).
 */
let current: { env: WorkerEnv; ready: Promise<Instance> } | undefined;

function instanceFor(env: WorkerEnv): Promise<Instance> {
  if (current?.env !== env) {
    const ready = start(env);
    current = { env, ready };
    ready.catch(() => {
      if (current?.ready === ready) current = undefined;
    });
  }
  return current.ready;
}

async function start(env: WorkerEnv): Promise<Instance> {
  const { config, initialAdminPassword } = workersSettings(env);
  if (!env.DB) throw new ConfigError('The D1 binding DB is missing: add `d1_databases` with binding "DB" to wrangler.jsonc (README "Deploy on Cloudflare Workers").');
  const storage = await openD1Storage(env.DB, { keyRing: keyRingSource(config) });
  const appLogger = createJsonLogger({ level: config.logLevel, write: (line) => console.log(line) });
  // A fetch of our own: the gateway relays through it (not Node's connection pool), and it is the
  // platform's, which reaches the public internet only.
  const fetch: typeof globalThis.fetch = (input, init) => globalThis.fetch(input, init);
  const portcullis = await createPortcullis({ config, storage, fetch, logger: appLogger, runtime: 'workers' });
  const { ctx } = portcullis;
  if (initialAdminPassword !== undefined && !isResourceOnly(config) && config.identityProvider.kind === 'local') {
    const created = await ensureFirstAdmin(storage, ctx, { password: initialAdminPassword });
    // The password is the operator's own secret: it is never logged, only that it was used.
    if (created) ctx.logger.audit('user.created', { username: created.username, reason: 'first administrator, from PORTCULLIS_INITIAL_ADMIN_PASSWORD' });
  }
  return { portcullis, reportedOtherOrigin: false, reloadKeysWhenDue: keyReloader(ctx) };
}

/**
 * The issuer and every URL the server advertises come from PORTCULLIS_PUBLIC_URL: a Worker reached at
 * another origin (wrangler.jsonc's example left in place, a new route) sends clients elsewhere, so the
 * first such request of an isolate is logged with both origins.
 */
function reportOtherOrigin(instance: Instance, request: Request): void {
  if (instance.reportedOtherOrigin) return;
  const { issuer } = instance.portcullis.ctx.config;
  const origin = new URL(request.url).origin;
  if (origin === issuer) return;
  instance.reportedOtherOrigin = true;
  instance.portcullis.ctx.logger.warn('request at another origin than PORTCULLIS_PUBLIC_URL: clients are sent to the public URL; set it to where the Worker is reached', { origin, public_url: issuer });
}

/** Every attempt to start that failed (a request's or the Cron Trigger's) is logged. */
const logStartFailure = (error: unknown): void => logger.error('portcullis could not start', { error });

/** The answer while the app cannot start: 503, naming the setting to fix when it is one (its message holds no secret). */
function startFailure(error: unknown): Response {
  const message = error instanceof ConfigError ? error.message : 'Portcullis could not start; see the Worker logs.';
  logStartFailure(error);
  return Response.json({ error: 'server_error', error_description: message }, { status: 503, headers: { 'Retry-After': '5', 'Cache-Control': 'no-store' } });
}

export default {
  async fetch(request: Request, env: WorkerEnv, context: WorkerContext): Promise<Response> {
    let instance: Instance;
    try {
      instance = await instanceFor(env);
    } catch (error) {
      return startFailure(error);
    }
    instance.reloadKeysWhenDue((work) => context.waitUntil(work));
    reportOtherOrigin(instance, request);
    // The caller's address for rate limits and back-off: Cloudflare sets CF-Connecting-IP on every
    // request and replaces any a client sent, so here (unlike a forwarded header on Node) it can be believed.
    const clientAddress = request.headers.get('CF-Connecting-IP') ?? undefined;
    return instance.portcullis.app.fetch(request, { clientAddress }, context as never);
  },

  /** The Cron Trigger (wrangler.jsonc `triggers.crons`): expired rows and stale self-registered clients go. */
  async scheduled(_controller: unknown, env: WorkerEnv, context: WorkerContext): Promise<void> {
    let instance: Instance;
    try {
      instance = await instanceFor(env);
    } catch (error) {
      logStartFailure(error);
      return;
    }
    const { ctx } = instance.portcullis;
    context.waitUntil(
      collectExpiredRows(ctx).then(
        ({ removed, clients }) => ctx.logger.info('expired rows collected', { removed, clients }),
        (error: unknown) => ctx.logger.error('collecting expired rows failed', { error }),
      ),
    );
  },
};
