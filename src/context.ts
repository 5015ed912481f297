import type { Capabilities } from './authorization/capabilities.ts';
import type { GrantStatus } from './authorization/grant-status.ts';
import type { ResolvedConfig } from './config/resolve.ts';
import type { KeyStore } from './keys/keystore.ts';
import type { Logger } from './log/logger.ts';
import type { Storage } from './storage/types.ts';
import type { Clock } from './util/clock.ts';
import type { RandomBytes } from './util/crypto.ts';

/** Everything a handler needs, built once at start. Clock, randomness and fetch are injected. */
export interface AppContext {
  readonly config: ResolvedConfig;
  readonly capabilities: Capabilities;
  readonly storage: Storage;
  readonly keys: KeyStore;
  readonly grants: GrantStatus;
  readonly clock: Clock;
  /** When this server process started (clock time): refresh retries after a crash count from here (HARD-9). */
  readonly startedAt: number;
  readonly random: RandomBytes;
  readonly fetch: typeof fetch;
  readonly logger: Logger;
}
