/**
 * Runs `sweep` every half idle-TTL (between 1 s and 1 min) without ever keeping the process alive on
 * its own: idle-session bookkeeping must not hold a server or a test runner open. Returns `stop`.
 */
export function startSweeper(idleTtlMs: number, sweep: () => Promise<unknown>): () => void {
  const every = Math.max(1000, Math.min(60_000, idleTtlMs / 2));
  const timer = setInterval(() => void sweep().catch(() => {}), every);
  timer.unref?.();
  return () => clearInterval(timer);
}
