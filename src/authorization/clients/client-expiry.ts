import type { ResolvedConfig } from '../../config/resolve.ts';
import type { ClientCap, ClientPruneRule } from '../../storage/types.ts';

/**
 * When self-registered clients go (HARD-7). An open `/register` must not fill the database, and a
 * slow flood of registrations must not lock out new MCP clients:
 *
 * - at most `registration.maxClients` self-registered clients; at the limit, the oldest that never
 *   completed an authorization makes room, unless it is younger than `EVICTION_MIN_AGE_MS` (it may be
 *   in its first authorization right now): only then is a registration refused (503);
 * - one that never completed an authorization is removed after `unusedClientTtl`;
 * - one with no live grant whose last authorization is older than `idleClientTtl` is removed.
 *
 * Operator clients (`portcullis clients add`) are never counted, capped or removed.
 */
export const EVICTION_MIN_AGE_MS = 10 * 60_000;

export function registrationCap(config: ResolvedConfig, now: number): ClientCap {
  return { max: config.registration.maxClients, evictUnusedCreatedBefore: now - EVICTION_MIN_AGE_MS };
}

export function clientPruneRule(config: ResolvedConfig, now: number): ClientPruneRule {
  return {
    now,
    unusedCreatedBefore: now - config.registration.unusedClientTtl * 1000,
    idleSince: now - config.registration.idleClientTtl * 1000,
  };
}
