import type { Hono } from 'hono';
import { computeCapabilities } from './authorization/capabilities.ts';
import { GrantStatus } from './authorization/grant-status.ts';
import { createTrustedIssuers } from './authorization/trusted-issuers.ts';
import type { ResolvedConfig } from './config/resolve.ts';
import { signsTrustedAuthTokens } from './config/stytch-authorization-page.ts';
import { createApp } from './http/app.ts';
import type { AppContext, RuntimeKind } from './context.ts';
import { createGateway } from './gateway/gateway.ts';
import { ClientFetches } from './http/client-fetches.ts';
import { createIdentityProvider } from './identity/providers/index.ts';
import { createAppDpop } from './dpop/app-dpop.ts';
import { createServerSecrets } from './keys/server-secrets.ts';
import type { McpBackend } from './mcp/backend.ts';
import { createBuiltInBackend } from './mcp/built-in.ts';
import { KeyStore } from './keys/keystore.ts';
import { createJsonLogger, type Logger } from './log/logger.ts';
import { countingAudits } from './metrics/audit-metrics.ts';
import { createMetrics } from './metrics/metrics.ts';
import { timedStorage } from './metrics/storage-metrics.ts';
import { isResourceOnly } from './resource/external.ts';
import { openDatabase } from './bootstrap/open-database.ts';
import type { Storage } from './storage/types.ts';
import { systemClock, type Clock } from './util/clock.ts';
import { systemRandom, type RandomBytes } from './util/crypto.ts';

export interface PortcullisOptions {
  config: ResolvedConfig;
  /** Defaults to the database named by `config.database` (SQLite file or PostgreSQL URL), with the configured key-encryption key. */
  storage?: Storage;
  clock?: Clock;
  random?: RandomBytes;
  fetch?: typeof fetch;
  logger?: Logger;
  /** Where it runs (default `node`); `workers` serves 2025-era MCP requests without sessions (src/runtime/workers.ts). */
  runtime?: RuntimeKind;
}

export interface Portcullis {
  app: Hono;
  ctx: AppContext;
  /** What serves the MCP endpoint: the built-in server, or in gateway mode the upstream (its sessions, for tests and diagnostics). */
  mcp: McpBackend;
  /**
   * Stops everything this object started, in order: MCP sessions, their streams and sweepers, and
   * the gateway's upstream sessions and child processes (for at most `graceMs`: long-lived streams
   * would otherwise hold the runtime's shutdown open); then waits for `drain` (the runtime letting
   * its in-flight requests finish); then closes storage. Calling it again returns the same promise.
   */
  close(options?: CloseOptions): Promise<void>;
}

export interface CloseOptions {
  /** The runtime's own shutdown, between the MCP sessions and storage: e.g. closing its server. */
  drain?: () => Promise<void>;
  /** How long MCP sessions may take to end (default 10 s). */
  graceMs?: number;
}

const DEFAULT_SESSION_GRACE_MS = 10_000;

/**
 * Builds the server: storage, keys and the app; in resource-only mode (`authorizationServer` set)
 * without the authorization server or a signing key. No listening socket: see runtime/node.ts.
 */
export async function createPortcullis(options: PortcullisOptions): Promise<Portcullis> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const storage = options.storage ?? (await openDatabase(config));
  const random = options.random ?? systemRandom;
  const fetch = options.fetch ?? globalThis.fetch;
  const runtime = options.runtime ?? 'node';
  // With metrics on, storage is timed and audit events counted, each by a wrapper: off, nothing is in the way.
  const metrics = config.metrics.enabled ? createMetrics() : undefined;
  const logger = options.logger ?? createJsonLogger({ level: config.logLevel, format: config.logFormat });
  const store = metrics ? timedStorage(storage, metrics) : storage;
  const base = {
    config,
    capabilities: computeCapabilities(config),
    storage: store,
    // Resource-only mode issues no tokens, so it needs (and creates) no signing key; unless it vouches
    // for its own accounts to Stytch (Trusted Auth Tokens).
    keys:
      isResourceOnly(config) && !signsTrustedAuthTokens(config)
        ? await KeyStore.load(store, clock, config.signingAlgorithm)
        : await KeyStore.open(store, clock, config.signingAlgorithm),
    grants: new GrantStatus(store, clock),
    clock,
    // On Workers an isolate's start is no restart of the service: no crash window (HARD-9, context.ts).
    startedAt: runtime === 'workers' ? undefined : clock.now(),
    runtime,
    random,
    fetch,
    logger: metrics ? countingAudits(logger, metrics) : logger,
    ...(metrics ? { metrics } : {}),
    // Per-app services: created here, owned by this object, so nothing is kept in a module-level registry.
    identity: createIdentityProvider(config),
    trustedIssuers: createTrustedIssuers({ config, fetch, clock }),
    secrets: createServerSecrets(store, random),
  };
  const ctx: AppContext = { ...base, clientFetches: new ClientFetches(base), dpop: createAppDpop(base) };
  // The MCP backend, chosen once here: the gateway's upstream (`upstream` set) or the built-in server.
  const mcp = config.upstream ? createGateway(ctx, config.upstream) : createBuiltInBackend(ctx);
  const app = createApp(ctx, mcp);
  let closing: Promise<void> | undefined;
  const close = (options: CloseOptions = {}): Promise<void> =>
    (closing ??= (async () => {
      await withDeadline(mcp.close(), options.graceMs ?? DEFAULT_SESSION_GRACE_MS).catch((error: unknown) => ctx.logger.warn('closing MCP sessions failed', { error }));
      try {
        await options.drain?.();
      } finally {
        await storage.close();
      }
    })());
  return { app, ctx, mcp, close };
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
    // Never what keeps a process alive.
    (timer as { unref?: () => void }).unref?.();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
