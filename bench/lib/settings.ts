/** How long and how hard each phase runs; `npm run bench` picks one from the environment. */
export interface BenchProfile {
  /** Seconds per measured load run, after `warmupSeconds` unmeasured. */
  seconds: number;
  warmupSeconds: number;
  /** Load runs per figure; the best is reported, all are kept in the JSON. */
  repeats: number;
  connections: number;
  sequentialFlows: number;
  concurrentFlows: number;
  concurrency: number;
  /** Flows per memory batch (two batches). */
  memoryFlows: number;
  /** First-time flows (login with scrypt + consent); at least one per concurrent client is run anyway. */
  firstTimeFlows: number;
  /**
   * Refresh tokens are pre-created for up to this many refreshes per second (Portcullis in its
   * database, the peer in memory); beyond it the pool runs out, which shows as non-2xx responses.
   */
  refreshCeilingPerSecond: { portcullis: number; sdk: number };
  /** Sequential SSE calls through the gateway, the bare proxy and directly, for the first-event latency. */
  sseSamples: number;
  /** Refresh tokens in the store of the expiry-sweep phase (every other one expired). */
  sweepRows: number;
}

export const FULL_PROFILE: BenchProfile = {
  seconds: 5,
  warmupSeconds: 1,
  repeats: 2,
  connections: 16,
  sequentialFlows: 300,
  concurrentFlows: 2000,
  concurrency: 8,
  memoryFlows: 10_000,
  firstTimeFlows: 16,
  refreshCeilingPerSecond: { portcullis: 10_000, sdk: 30_000 },
  sseSamples: 300,
  sweepRows: 1_000_000,
};

export const QUICK_PROFILE: BenchProfile = {
  ...FULL_PROFILE,
  seconds: 1.5,
  warmupSeconds: 0.5,
  repeats: 1,
  sequentialFlows: 100,
  concurrentFlows: 400,
  memoryFlows: 1000,
  firstTimeFlows: 8,
  sseSamples: 100,
  sweepRows: 100_000,
};

export const PHASES = ['flows', 'memory', 'tools-call', 'refresh', 'dpop', 'gateway', 'calibration', 'sweep'] as const;
export type Phase = (typeof PHASES)[number];

/** The profile chosen by BENCH_QUICK, BENCH_SECONDS, BENCH_REPEATS and BENCH_WARMUP_SECONDS. */
export function profileFromEnv(env: NodeJS.ProcessEnv): BenchProfile {
  const base = env['BENCH_QUICK'] === '1' ? QUICK_PROFILE : FULL_PROFILE;
  const positive = (name: string, fallback: number): number => {
    const value = Number(env[name]);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  const warmup = env['BENCH_WARMUP_SECONDS'] ? Number(env['BENCH_WARMUP_SECONDS']) : Number.NaN;
  return {
    ...base,
    seconds: positive('BENCH_SECONDS', base.seconds),
    repeats: Math.round(positive('BENCH_REPEATS', base.repeats)),
    // 0 is allowed: many short repeats, alternating, where the previous variant's run warms the next.
    warmupSeconds: warmup >= 0 ? warmup : base.warmupSeconds,
  };
}

/** BENCH_ONLY=refresh,tools-call … runs only those phases. */
export function phasesFromEnv(env: NodeJS.ProcessEnv): Set<Phase> {
  const only = env['BENCH_ONLY'];
  if (!only) return new Set(PHASES);
  const chosen = only.split(',').map((p) => p.trim());
  const unknown = chosen.filter((p) => !(PHASES as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown phase ${unknown.join(', ')} (phases: ${PHASES.join(', ')})`);
  return new Set(chosen as Phase[]);
}
