import { clientPruneRule } from '../authorization/clients/client-expiry.ts';
import type { AppContext } from '../context.ts';

/**
 * Signing keys are re-read this often, so a `portcullis keys rotate` run against the same database
 * takes effect without a restart (Node: a timer; Workers: the first request after it has passed).
 * `keys rotate` keeps old keys published for this long on top of the token lifetime.
 */
export const KEY_RELOAD_MS = 60_000;

/**
 * Deletes expired codes, requests, tokens and sessions, and self-registered clients past their
 * expiry (HARD-8): on Node every 10 minutes on a timer, on Workers from the Cron Trigger.
 */
export async function collectExpiredRows(ctx: Pick<AppContext, 'storage' | 'clock' | 'config' | 'logger'>): Promise<{ removed: number; clients: number }> {
  const removed = await ctx.storage.collectExpired(ctx.clock.now());
  const clients = await ctx.storage.clients.prune(clientPruneRule(ctx.config, ctx.clock.now()));
  if (removed || clients) ctx.logger.debug('expired rows collected', { removed, clients });
  return { removed, clients };
}
