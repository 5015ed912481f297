import type { Hono } from 'hono';
import { computeCapabilities } from './authorization/capabilities.ts';
import { GrantStatus } from './authorization/grant-status.ts';
import type { ResolvedConfig } from './config/resolve.ts';
import { createApp } from './http/app.ts';
import type { AppContext } from './context.ts';
import { KeyStore } from './keys/keystore.ts';
import { createJsonLogger, type Logger } from './log/logger.ts';
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
}

export interface Portcullis {
  app: Hono;
  ctx: AppContext;
  close(): Promise<void>;
}

/**
 * Builds the server: storage, keys and the app; in resource-only mode (`authorizationServer` set)
 * without the authorization server or a signing key. No listening socket: see runtime/node.ts.
 */
export async function createPortcullis(options: PortcullisOptions): Promise<Portcullis> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const storage = options.storage ?? (await openDatabase(config));
  const ctx: AppContext = {
    config,
    capabilities: computeCapabilities(config),
    storage,
    // Resource-only mode issues no tokens, so it needs (and creates) no signing key.
    keys: isResourceOnly(config) ? await KeyStore.load(storage, clock, config.signingAlgorithm) : await KeyStore.open(storage, clock, config.signingAlgorithm),
    grants: new GrantStatus(storage, clock),
    clock,
    startedAt: clock.now(),
    random: options.random ?? systemRandom,
    fetch: options.fetch ?? globalThis.fetch,
    logger: options.logger ?? createJsonLogger({ level: config.logLevel }),
  };
  const app = createApp(ctx);
  return { app, ctx, close: () => storage.close() };
}
