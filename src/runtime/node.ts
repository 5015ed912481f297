import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { ensureFirstAdmin, type FirstAdmin } from '../bootstrap/first-admin.ts';
import { assertWritable, openDatabase } from '../bootstrap/open-database.ts';
import { ConfigError, resolveConfig, type ResolvedConfig } from '../config/resolve.ts';
import { configWarnings } from '../config/warnings.ts';
import type { Logger } from '../log/logger.ts';
import { createPortcullis, type Portcullis } from '../portcullis.ts';
import { isResourceOnly } from '../resource/external.ts';
import { collectExpiredRows, KEY_RELOAD_MS } from './housekeeping.ts';
import { createMetricsApp } from '../metrics/endpoint.ts';
import { watchParent } from './parent-watch.ts';

export { KEY_RELOAD_MS };

export interface NodeServerOptions {
  logger?: Logger;
  /** Install SIGINT/SIGTERM handlers that shut down gracefully (default true). */
  handleSignals?: boolean;
  /** How long in-flight requests may take to finish on shutdown before their connections are cut. */
  shutdownGraceMs?: number;
  /**
   * Also stop gracefully when the parent process exits (default false): set when a launcher such as
   * npm started us, so the server never outlives it as an orphan.
   */
  stopWhenParentExits?: boolean;
  /** Called once the server has stopped after a signal, with the exit code to use (default: exit the process). */
  onStopped?: (code: number) => void;
  /** Called when the server is ready, before its first log line: where the start-up banner is printed. */
  onReady?: (server: ReadyInfo) => void;
}

export interface ReadyInfo {
  /** The configuration in force: with `PORT=0` and no public URL, the issuer carries the real port. */
  config: ResolvedConfig;
  /** `host:port` the socket is bound to. */
  listening: string;
  /** Set on the first start only: the administrator created on an empty database. */
  firstAdmin: FirstAdmin | null;
}

export interface NodeServer extends ReadyInfo {
  portcullis: Portcullis;
  /** `host:port` of the separate metrics listener, when `metrics.port` is set. */
  metricsListening?: string;
  /** Stops accepting connections, lets in-flight requests finish (up to the grace period), closes storage. */
  close(): Promise<void>;
}

/**
 * Expired codes, requests, tokens and sessions, and self-registered clients past their expiry, are
 * deleted this often, in small batches with a turn of the event loop between them (HARD-8).
 */
const COLLECT_EXPIRED_MS = 10 * 60_000;
const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/** Signals closer together than this are one stop request delivered twice, not an impatient user. */
const REPEATED_SIGNAL_WINDOW_MS = 1_000;

/**
 * Runs Portcullis on Node: binds the socket first (so `PORT=0` can pick a free port and the issuer
 * can name it), then opens storage and keys, creates the first administrator on an empty database,
 * and starts the housekeeping timers. Nothing is printed here except JSON logs: `onReady` is where a
 * caller prints its banner.
 */
export async function startNodeServer(initialConfig: ResolvedConfig, options: NodeServerOptions = {}): Promise<NodeServer> {
  let handle: ((request: Request, env: unknown) => Response | Promise<Response>) | null = null;
  const server = createAdaptorServer({
    fetch: (request, env) => (handle ? handle(request, env) : new Response('Starting', { status: 503, headers: { 'Retry-After': '1' } })),
  }) as Server;

  await listen(server, initialConfig.port, initialConfig.host);
  const listening = addressOf(server);
  const address = server.address() as AddressInfo;

  let portcullis: Portcullis;
  let config = initialConfig;
  let firstAdmin: FirstAdmin | null;
  try {
    // With PORT=0 the default public URL (http://localhost:<port>) must name the port actually bound.
    if (initialConfig.port === 0 && !initialConfig.publicUrl) config = resolveConfig({ ...initialConfig, port: address.port });
    const storage = await openDatabase(config);
    await assertWritable(storage, config).catch(async (error: unknown) => {
      await storage.close();
      throw error;
    });
    portcullis = await createPortcullis({ config, storage, ...(options.logger ? { logger: options.logger } : {}) });
    // Local accounts only: in resource-only mode users sign in at the external authorization server,
    // and with an upstream identity provider they sign in there.
    const localLogin = !isResourceOnly(config) && config.identityProvider.kind === 'local';
    firstAdmin = localLogin ? await ensureFirstAdmin(portcullis.ctx.storage, portcullis.ctx, { passwordFile: config.initialAdminPasswordFile }) : null;
  } catch (error) {
    server.close();
    throw error;
  }
  const { ctx, app } = portcullis;
  const logger = ctx.logger;
  handle = (request, env) => app.fetch(request, env);

  // `metrics.port`: /metrics on a listener of its own, e.g. on 127.0.0.1 or a private interface only.
  const metricsApp = config.metrics.port !== undefined ? createMetricsApp(ctx) : null;
  let metricsServer: Server | null = null;
  let metricsListening: string | undefined;
  if (metricsApp) {
    metricsServer = createAdaptorServer({ fetch: metricsApp.fetch }) as Server;
    try {
      await listen(metricsServer, config.metrics.port!, config.metrics.host, 'PORTCULLIS_METRICS_HOST', 'PORTCULLIS_METRICS_PORT');
    } catch (error) {
      server.close();
      await portcullis.close();
      throw error;
    }
    metricsListening = addressOf(metricsServer);
  }

  const timers = [
    every(COLLECT_EXPIRED_MS, () => collectExpiredRows(ctx), logger, 'collecting expired rows'),
    every(KEY_RELOAD_MS, () => ctx.keys.reload(), logger, 'reloading signing keys'),
  ];

  let closing: Promise<void> | null = null;
  const graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      for (const t of timers) clearInterval(t);
      metricsServer?.closeAllConnections();
      metricsServer?.close();
      // MCP sessions end first (long-lived streams would hold the server open until the deadline),
      // then in-flight requests finish, then storage closes: all in the one close of Portcullis.
      await portcullis.close({ graceMs, drain: () => drainServer(server, graceMs) });
      logger.info('server stopped');
    })());

  if (options.handleSignals ?? true) {
    let stopRequestedAt: number | null = null;
    let stopWatchingParent = (): void => {};
    const stop = (reason: Record<string, string>): void => {
      if (stopRequestedAt !== null) {
        // The same request often arrives twice at once: Ctrl+C reaches the whole process group
        // (npm and us) and npm forwards its copy; a service manager may signal every process of
        // the unit. A second signal well after the first is a user who does not want to wait.
        if (Date.now() - stopRequestedAt > REPEATED_SIGNAL_WINDOW_MS) process.exit(130);
        return;
      }
      stopRequestedAt = Date.now();
      stopWatchingParent();
      logger.info('shutting down', reason);
      close().then(
        () => (options.onStopped ?? ((code) => process.exit(code)))(0),
        (error: unknown) => {
          logger.error('shutdown failed', { error });
          (options.onStopped ?? ((code) => process.exit(code)))(1);
        },
      );
    };
    const onSignal = (signal: NodeJS.Signals): void => stop({ signal });
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (options.stopWhenParentExits) stopWatchingParent = watchParent(() => stop({ reason: 'parent process exited' }));
  }

  // Ready only once signals are handled, so whoever reacts to the banner can already stop us cleanly.
  options.onReady?.({ config, listening, firstAdmin });
  for (const warning of configWarnings(config)) logger.warn(warning);
  if (config.dangerouslyAllowInsecureHttp && new URL(config.issuer).protocol === 'http:') {
    logger.warn('insecure http allowed: tokens and passwords cross the network in clear text', { issuer: config.issuer });
  }
  if (config.dangerouslyAllowPrivateNetworkFetches) {
    // SSRF defence off (BP-08): client-supplied URLs may reach this machine and its network.
    logger.warn('DANGEROUS: fetches of client-supplied URLs may reach loopback and private addresses over plain http; for tests only', {
      setting: 'PORTCULLIS_DANGEROUSLY_ALLOW_PRIVATE_NETWORK_FETCHES',
    });
  }
  logger.info('server started', { issuer: config.issuer, resource: config.resource, listening, ...(metricsListening ? { metrics_listening: metricsListening } : {}) });
  return { portcullis, config, listening, ...(metricsListening ? { metricsListening } : {}), firstAdmin, close };
}

/** `host:port` a listening server is bound to, IPv6 in brackets. */
function addressOf(server: Server): string {
  const address = server.address() as AddressInfo;
  return `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

function listen(server: Server, port: number, host: string, HOST = 'HOST', PORT = 'PORT'): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EADDRINUSE') reject(new ConfigError(`Port ${port} on ${host} is already in use. Stop the other process or set ${PORT}.`));
      else if (error.code === 'EADDRNOTAVAIL') reject(new ConfigError(`Cannot listen on ${host}: no such address on this machine. Check ${HOST}.`));
      else if (error.code === 'EACCES') reject(new ConfigError(`Not allowed to listen on port ${port}. Use a port above 1023 or set ${PORT}.`));
      else if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') reject(new ConfigError(`Cannot listen on ${host}: the name does not resolve (${error.code}). Check ${HOST}.`));
      // Whatever else the socket says is still about the host and port: one line, no stack.
      else reject(new ConfigError(`Cannot listen on ${host}:${port} (${HOST}, ${PORT}): ${error.code ?? error.message}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Stops accepting connections and lets in-flight requests finish, cutting what is left after `graceMs`. */
function drainServer(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((done) => {
    const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
    deadline.unref();
    // A keep-alive connection that goes idle after its last response would otherwise hold close()
    // until the client's keep-alive timeout: keep closing idle ones while in-flight requests finish.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    server.close(() => {
      clearTimeout(deadline);
      clearInterval(sweep);
      done();
    });
    server.closeIdleConnections();
  });
}

/** A periodic task that never keeps the process alive and never runs twice at once. */
function every(ms: number, task: () => Promise<unknown>, logger: Logger, what: string): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .catch((error: unknown) => logger.error(`${what} failed`, { error }))
      .finally(() => (running = false));
  }, ms);
  timer.unref();
  return timer;
}
