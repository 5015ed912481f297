import type { SweepReport } from './sweep.ts';
import type { Usage } from '../servers/types.ts';
import type { DpopRuns } from './dpop.ts';
import type { GatewayReport } from './gateway.ts';
import type { LoadResult } from './load.ts';
import type { BenchProfile, Phase } from './settings.ts';
import { median, quantile } from './stats.ts';

export interface LatencySummary {
  n: number;
  medianMs: number;
  p90Ms: number;
}

export const summarize = (ms: readonly number[]): LatencySummary => ({ n: ms.length, medianMs: median(ms), p90Ms: quantile(ms, 0.9) });

/** The four tools/call variants, measured side by side (warm-up, then ABBA). */
export interface ToolsCallRuns {
  portcullisAuth: LoadResult[];
  portcullisNoAuth: LoadResult[];
  sdkAuth: LoadResult[];
  sdkNoAuth: LoadResult[];
}

/** Everything one `npm run bench` measured: what bench/results/latest.json holds. */
export interface BenchReport {
  conditions: {
    date: string;
    node: string;
    cpu: string;
    cores: number;
    loadAverageAtStart: number[];
    layout: string;
    profile: BenchProfile;
    phases: Phase[];
    /** True when the phases ran under the CPU profiler (slower: not for figures). */
    cpuProfiled: boolean;
  };
  firstTime: LatencySummary;
  flows?: {
    sequential: LatencySummary;
    concurrent: LatencySummary & { clients: number; flowsPerSecond: number; cpuMicrosPerFlow: number };
  };
  memory?: {
    flowsPerBatch: number;
    /** Right after start, before any request. */
    started: Usage;
    /** After the sign-ins and any earlier phase, after GC: the baseline of the batches. */
    idle: Usage;
    afterBatch: Usage[];
    afterBatchGc: Usage[];
  };
  /** tools/call right after the sign-ins: a fresh process. */
  toolsCall?: ToolsCallRuns;
  /** tools/call again after the memory phase's flows (when both phases ran): a long-running process. */
  toolsCallAfterFlows?: ToolsCallRuns & {
    /** The memory phase's flows (the flows phase, when it ran, adds its own before them). */
    flowsBefore: number;
  };
  refresh?: { portcullis: LoadResult[]; sdk: LoadResult[]; poolPerRun: { portcullis: number; sdk: number } };
  /** tools/call with a DPoP-bound token and a proof per request, beside the same with a bearer token. */
  dpop?: DpopRuns;
  gateway?: GatewayReport;
  calibration?: { bareNodeHttp: LoadResult[] };
  /** The expiry sweep on a large store, before and after HARD-8 (bench/lib/sweep.ts). */
  sweep?: SweepReport;
  /** RSS of every server process at the end of the run, in bytes. */
  finalRss: Record<string, number>;
}
