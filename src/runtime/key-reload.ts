import type { AppContext } from '../context.ts';
import { KEY_RELOAD_MS } from './housekeeping.ts';

/**
 * Signing-key reload where nothing runs between requests (Workers): each request asks, and when
 * `intervalMs` has passed since the last read, the keys are re-read in the background of that request
 * (`waitUntil`), so a `keys rotate` made elsewhere is signed with and published within a minute of
 * traffic, as Node's timer does. Concurrent requests start one read, not one each.
 */
export function keyReloader(ctx: Pick<AppContext, 'keys' | 'clock' | 'logger'>, intervalMs = KEY_RELOAD_MS): (background: (work: Promise<void>) => void) => void {
  let readAt = ctx.clock.now();
  return (background) => {
    const now = ctx.clock.now();
    if (now - readAt < intervalMs) return;
    readAt = now;
    background(ctx.keys.reload().catch((error: unknown) => ctx.logger.error('reloading signing keys failed', { error })));
  };
}
