import { formatSweep } from './sweep.ts';
import type { BenchReport, ToolsCallRuns } from './results.ts';
import type { LoadResult } from './load.ts';
import { best } from './stats.ts';

/**
 * The targets of issues 6 and 10, on this machine: auth ratio (authenticated ÷ the auth-off twin)
 * fresh and after the memory phase's flows, authenticated tools/call against the SDK v1 peer, refresh
 * CPU against the peer's, refreshes per second, sequential flow latency, gateway relay CPU.
 */
export const TARGETS = {
  authRatio: 0.97,
  toolsCallVsSdk: 1.5,
  refreshCpuVsSdk: 1.2,
  refreshPerSecond: 5000,
  sequentialFlowMedianMs: 15,
  gatewayRelayRatio: 2,
} as const;

/** The tools/call figures of one measurement (fresh, or after the flows). */
export interface ToolsCallFigures {
  /** Best authenticated req/s ÷ best unauthenticated req/s, same server, same run. */
  portcullisAuthRatio: number;
  sdkAuthRatio: number;
  /**
   * The same ratio from server CPU per request (unauthenticated ÷ authenticated, lowest of the runs):
   * what req/s would show on a quiet machine where the server core is the bottleneck.
   */
  portcullisAuthCpuRatio: number;
  sdkAuthCpuRatio: number;
  /** Portcullis authenticated tools/call per second ÷ the SDK's. */
  toolsCallVsSdk: number;
  /** The same from CPU per request: SDK authenticated CPU µs ÷ Portcullis authenticated CPU µs. */
  toolsCallCpuVsSdk: number;
  /**
   * The CPU ratios again, taken per repeat (the variants of one repeat ran back to back) and then the
   * median over the repeats: on a busy machine, drift touches both sides of a pair alike.
   */
  paired: { portcullisAuthCpuRatio: number; toolsCallCpuVsSdk: number; repeats: number };
}

/** The figures the issue asks about, from the best run of each (NaN where a phase did not run). */
export interface Headline extends ToolsCallFigures {
  /** The tools/call figures after the memory phase's flows. */
  afterFlows: ToolsCallFigures;
  portcullisRefreshPerSecond: number;
  refreshVsSdk: number;
  /** Portcullis CPU µs per refresh ÷ the SDK peer's, lowest run of each (target ≤ 1.2). */
  refreshCpuVsSdk: number;
  sequentialFlowMedianMs: number;
  /** Heap used after GC, second batch minus first batch, in MiB. */
  heapGrowthMiB: number;
  rssGrowthMiB: number;
  /** Gateway CPU per relayed tools/call ÷ the bare proxy's, lowest of the runs each (target ≤ 2). */
  gatewayRelayRatio: number;
  /** DPoP tools/call CPU ÷ bearer tools/call CPU, median of the paired runs; and the difference in µs. */
  dpopCpuRatio: number;
  dpopAddedMicros: number;
}

const top = (runs: readonly LoadResult[]): LoadResult => best(runs, (r) => r.rps);
const leanest = (runs: readonly LoadResult[]): number => Math.min(...runs.map((r) => r.cpuMicrosPerRequest));
const mib = (bytes: number): number => bytes / 1024 / 1024;

/** The median, halfway between the middle two of an even count; NaN for none. */
function middle(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const half = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
}

/** Median over the repeats of `numerator[i].cpu ÷ denominator[i].cpu`. */
const pairedCpuRatio = (numerator: readonly LoadResult[], denominator: readonly LoadResult[]): number =>
  middle(numerator.map((n, i) => n.cpuMicrosPerRequest / denominator[i]!.cpuMicrosPerRequest));

function toolsCallFigures(t: ToolsCallRuns | undefined): ToolsCallFigures {
  if (!t) {
    const paired = { portcullisAuthCpuRatio: NaN, toolsCallCpuVsSdk: NaN, repeats: 0 };
    return { portcullisAuthRatio: NaN, sdkAuthRatio: NaN, portcullisAuthCpuRatio: NaN, sdkAuthCpuRatio: NaN, toolsCallVsSdk: NaN, toolsCallCpuVsSdk: NaN, paired };
  }
  return {
    paired: {
      portcullisAuthCpuRatio: pairedCpuRatio(t.portcullisNoAuth, t.portcullisAuth),
      toolsCallCpuVsSdk: pairedCpuRatio(t.sdkAuth, t.portcullisAuth),
      repeats: t.portcullisAuth.length,
    },
    portcullisAuthRatio: top(t.portcullisAuth).rps / top(t.portcullisNoAuth).rps,
    sdkAuthRatio: top(t.sdkAuth).rps / top(t.sdkNoAuth).rps,
    portcullisAuthCpuRatio: leanest(t.portcullisNoAuth) / leanest(t.portcullisAuth),
    sdkAuthCpuRatio: leanest(t.sdkNoAuth) / leanest(t.sdkAuth),
    toolsCallVsSdk: top(t.portcullisAuth).rps / top(t.sdkAuth).rps,
    toolsCallCpuVsSdk: leanest(t.sdkAuth) / leanest(t.portcullisAuth),
  };
}

export function headline(report: BenchReport): Headline {
  const r = report.refresh;
  const [first, second] = report.memory?.afterBatchGc ?? [];
  return {
    ...toolsCallFigures(report.toolsCall),
    afterFlows: toolsCallFigures(report.toolsCallAfterFlows),
    portcullisRefreshPerSecond: r ? top(r.portcullis).rps : Number.NaN,
    refreshVsSdk: r ? top(r.portcullis).rps / top(r.sdk).rps : Number.NaN,
    refreshCpuVsSdk: r ? leanest(r.portcullis) / leanest(r.sdk) : Number.NaN,
    sequentialFlowMedianMs: report.flows?.sequential.medianMs ?? Number.NaN,
    heapGrowthMiB: first && second ? mib(second.heapUsed - first.heapUsed) : Number.NaN,
    rssGrowthMiB: first && second ? mib(second.rss - first.rss) : Number.NaN,
    gatewayRelayRatio: report.gateway ? leanest(report.gateway.toolsCall.gateway) / leanest(report.gateway.toolsCall.bareProxy) : Number.NaN,
    dpopCpuRatio: report.dpop ? pairedCpuRatio(report.dpop.dpop, report.dpop.bearer) : Number.NaN,
    dpopAddedMicros: report.dpop ? middle(report.dpop.dpop.map((d, i) => d.cpuMicrosPerRequest - report.dpop!.bearer[i]!.cpuMicrosPerRequest)) : Number.NaN,
  };
}

const fixed = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—');
const pad = (s: string, width: number): string => s.padEnd(width);
const lpad = (s: string, width: number): string => s.padStart(width);
const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');

function loadRow(name: string, runs: readonly LoadResult[]): string {
  const r = top(runs);
  const spread = runs.length > 1 ? ` (runs: ${runs.map((x) => fixed(x.rps)).join(', ')})` : '';
  const failures = r.non2xx + r.errors > 0 ? `  ${r.non2xx} non-2xx, ${r.errors} errors` : '';
  return `  ${pad(name, 44)}${lpad(fixed(r.rps), 8)}${lpad(fixed(r.p50Ms), 8)}${lpad(fixed(r.p99Ms), 8)}${lpad(fixed(r.cpuMicrosPerRequest), 10)}${lpad(`${fixed(r.serverBusy * 100)}%`, 7)}${spread}${failures}`;
}

const HEADER = `  ${pad('', 44)}${lpad('req/s', 8)}${lpad('p50 ms', 8)}${lpad('p99 ms', 8)}${lpad('CPU µs', 10)}${lpad('busy', 7)}`;
const usage = (u: { rss: number; heapUsed: number }): string => `${fixed(mib(u.rss), 1)} / ${fixed(mib(u.heapUsed), 1)}`;

/** The human-readable table printed at the end of `npm run bench`. */
export function formatReport(report: BenchReport): string {
  const c = report.conditions;
  const h = headline(report);
  const lines = [
    `Portcullis bench — ${c.date}`,
    `  ${c.node}, ${c.cores} × ${c.cpu}, load average at start ${c.loadAverageAtStart.join(' ')}`,
    `  ${c.layout}; ${c.profile.connections} connections; ${c.profile.seconds} s per run after ${c.profile.warmupSeconds} s warm-up; best of ${c.profile.repeats}`,
    ...(c.cpuProfiled ? ['  PROFILED RUN: every phase ran under the CPU profiler, so the figures are lower than they should be'] : []),
    '  busy = server CPU time ÷ wall time: below ~90% the server was not the bottleneck (busy machine), so trust CPU µs over req/s',
  ];

  const toolsCallTable = (title: string, t: ToolsCallRuns, f: ToolsCallFigures, when: string): void => {
    lines.push(
      '',
      title,
      HEADER,
      loadRow('Portcullis, auth', t.portcullisAuth),
      loadRow('Portcullis, no auth (bench-only endpoint)', t.portcullisNoAuth),
      loadRow('SDK v1 (Express, requireBearerAuth), auth', t.sdkAuth),
      loadRow('SDK v1, no auth', t.sdkNoAuth),
      `  auth ratio ${when}, req/s: ${fixed(f.portcullisAuthRatio, 2)} (target ≥ ${TARGETS.authRatio}: ${verdict(f.portcullisAuthRatio >= TARGETS.authRatio)}); SDK ${fixed(f.sdkAuthRatio, 2)}`,
      `  auth ratio ${when}, CPU per request: ${fixed(f.portcullisAuthCpuRatio, 2)} lowest of each, ${fixed(f.paired.portcullisAuthCpuRatio, 2)} median of ${f.paired.repeats} paired runs (target ≥ ${TARGETS.authRatio}: ${verdict(f.paired.portcullisAuthCpuRatio >= TARGETS.authRatio)}); SDK ${fixed(f.sdkAuthCpuRatio, 2)} (what req/s shows when every run is server-bound)`,
      `  × SDK v1 ${when}, authenticated req/s: ${fixed(f.toolsCallVsSdk, 2)}× (target ≥ ${TARGETS.toolsCallVsSdk}×: ${verdict(f.toolsCallVsSdk >= TARGETS.toolsCallVsSdk)}); CPU per request: ${fixed(f.toolsCallCpuVsSdk, 2)}× lowest of each, ${fixed(f.paired.toolsCallCpuVsSdk, 2)}× paired (${verdict(f.paired.toolsCallCpuVsSdk >= TARGETS.toolsCallVsSdk)})`,
    );
  };
  if (report.toolsCall) toolsCallTable('MCP tools/call (whoami, 2025-06-18 session), fresh process', report.toolsCall, h, 'fresh');
  if (report.toolsCallAfterFlows) {
    const after = `after ${fixed(report.toolsCallAfterFlows.flowsBefore)} flows`;
    toolsCallTable(`MCP tools/call again, ${after} (the memory phase)`, report.toolsCallAfterFlows, h.afterFlows, after);
  }

  if (report.refresh) {
    const r = report.refresh;
    lines.push(
      '',
      'Refresh grant (every request a real rotation)',
      HEADER,
      loadRow('Portcullis (SQLite, ES256)', r.portcullis),
      loadRow('SDK v1 tokenHandler (in-memory, ES256)', r.sdk),
      `  Portcullis: ${fixed(h.portcullisRefreshPerSecond)}/s (target ≥ ${fixed(TARGETS.refreshPerSecond)}: ${verdict(h.portcullisRefreshPerSecond >= TARGETS.refreshPerSecond)}); ÷ SDK: ${fixed(h.refreshVsSdk, 2)}×`,
      `  refresh CPU ÷ SDK peer refresh CPU: ${fixed(h.refreshCpuVsSdk, 2)}× (target ≤ ${TARGETS.refreshCpuVsSdk}×: ${verdict(h.refreshCpuVsSdk <= TARGETS.refreshCpuVsSdk)})`,
    );
  }

  lines.push('', 'Full flow: authorize (signed in, consent remembered) → code → token → initialize → tools/call');
  if (report.flows) {
    const f = report.flows;
    lines.push(
      `  sequential         median ${fixed(f.sequential.medianMs, 1)} ms, p90 ${fixed(f.sequential.p90Ms, 1)} ms (n=${f.sequential.n}; target median ≤ ${TARGETS.sequentialFlowMedianMs} ms: ${verdict(f.sequential.medianMs <= TARGETS.sequentialFlowMedianMs)})`,
      `  ${`${f.concurrent.clients} concurrent`.padEnd(19)}median ${fixed(f.concurrent.medianMs, 1)} ms, p90 ${fixed(f.concurrent.p90Ms, 1)} ms (n=${f.concurrent.n}), ${fixed(f.concurrent.flowsPerSecond)} flows/s, ${fixed(f.concurrent.cpuMicrosPerFlow)} CPU µs per flow`,
    );
  }
  lines.push(`  first time         median ${fixed(report.firstTime.medianMs, 1)} ms, p90 ${fixed(report.firstTime.p90Ms, 1)} ms (n=${report.firstTime.n}; login page with scrypt + consent page)`);

  if (report.memory) {
    const m = report.memory;
    lines.push(
      '',
      'Memory of the Portcullis server (RSS / heap used, MiB)',
      `  just started                   ${usage(m.started)}`,
      `  before the batches, after GC   ${usage(m.idle)}`,
      ...m.afterBatch.map((u, i) => `  ${`after ${fixed((i + 1) * m.flowsPerBatch)} flows`.padEnd(31)}${usage(u)}; after GC ${usage(m.afterBatchGc[i]!)}`),
      `  growth over the second ${fixed(m.flowsPerBatch)} flows, after GC: RSS ${fixed(h.rssGrowthMiB, 1)} MiB, heap ${fixed(h.heapGrowthMiB, 1)} MiB`,
    );
  }
  lines.push('', `RSS at the end (MiB): ${Object.entries(report.finalRss).map(([k, v]) => `${k} ${fixed(mib(v), 1)}`).join(', ')}`);

  if (report.dpop) {
    lines.push(
      '',
      'DPoP (RFC 9449): tools/call with a DPoP-bound token and a new proof per request, beside a bearer token',
      HEADER,
      loadRow('Portcullis, bearer token', report.dpop.bearer),
      loadRow('Portcullis, DPoP token + proof', report.dpop.dpop),
      `  DPoP ÷ bearer, CPU per request: ${fixed(h.dpopCpuRatio, 2)}× (median of ${report.dpop.dpop.length} paired runs): +${fixed(h.dpopAddedMicros)} µs per request`,
    );
  }

  if (report.gateway) {
    const g = report.gateway;
    const sse = (name: string, s: { medianMs: number; p90Ms: number; n: number }): string => `  ${pad(name, 44)}median ${fixed(s.medianMs, 2)} ms, p90 ${fixed(s.p90Ms, 2)} ms (n=${s.n})`;
    lines.push(
      '',
      'Gateway: tools/call relayed to an MCP SDK server (echo, 2025-06-18 session)',
      HEADER,
      loadRow('Portcullis gateway (token verified, relayed)', g.toolsCall.gateway),
      loadRow('bare node:http proxy (the limit, no auth)', g.toolsCall.bareProxy),
      loadRow('upstream called directly (its own CPU)', g.toolsCall.direct),
      `  relay ratio, gateway ÷ bare proxy CPU per call: ${fixed(h.gatewayRelayRatio, 2)}× (target ≤ ${TARGETS.gatewayRelayRatio}×: ${verdict(h.gatewayRelayRatio <= TARGETS.gatewayRelayRatio)})`,
      '  SSE first event (request sent → progress notification received; must not get worse through the gateway)',
      sse('through the gateway', g.sseFirstEvent.gateway),
      sse('through the bare proxy', g.sseFirstEvent.bareProxy),
      sse('directly', g.sseFirstEvent.direct),
    );
  }

  if (report.calibration) lines.push('', 'Calibration', HEADER, loadRow('bare node:http (load-generator ceiling)', report.calibration.bareNodeHttp));
  if (report.sweep) lines.push('', ...formatSweep(report.sweep));
  lines.push('', ...issue10Summary(report, h));
  return lines.join('\n');
}

/** Every issue-10 row beside its target in one place (CPU-based where the machine may be busy). */
function issue10Summary(report: BenchReport, h: Headline): string[] {
  const row = (name: string, value: number, target: string, ok: boolean): string => `  ${pad(name, 58)}${lpad(Number.isFinite(value) ? `${fixed(value, 2)}` : '—', 6)}  target ${target}: ${Number.isFinite(value) ? verdict(ok) : 'not measured'}`;
  const after = report.toolsCallAfterFlows ? `after ${fixed(report.toolsCallAfterFlows.flowsBefore)} flows` : 'after the flows (needs the memory phase)';
  return [
    'Issue 10 targets (from CPU µs per request: tools/call ratios paired per repeat, the others lowest run of each; req/s ratios are above)',
    row('auth ratio, fresh', h.paired.portcullisAuthCpuRatio, `≥ ${TARGETS.authRatio}`, h.paired.portcullisAuthCpuRatio >= TARGETS.authRatio),
    row(`auth ratio, ${after}`, h.afterFlows.paired.portcullisAuthCpuRatio, `≥ ${TARGETS.authRatio}`, h.afterFlows.paired.portcullisAuthCpuRatio >= TARGETS.authRatio),
    row('authenticated tools/call × SDK v1, fresh', h.paired.toolsCallCpuVsSdk, `≥ ${TARGETS.toolsCallVsSdk}×`, h.paired.toolsCallCpuVsSdk >= TARGETS.toolsCallVsSdk),
    row(`authenticated tools/call × SDK v1, ${after}`, h.afterFlows.paired.toolsCallCpuVsSdk, `≥ ${TARGETS.toolsCallVsSdk}×`, h.afterFlows.paired.toolsCallCpuVsSdk >= TARGETS.toolsCallVsSdk),
    row('refresh CPU ÷ SDK peer refresh CPU', h.refreshCpuVsSdk, `≤ ${TARGETS.refreshCpuVsSdk}×`, h.refreshCpuVsSdk <= TARGETS.refreshCpuVsSdk),
    row('gateway relay CPU ÷ bare proxy CPU', h.gatewayRelayRatio, `≤ ${TARGETS.gatewayRelayRatio}×`, h.gatewayRelayRatio <= TARGETS.gatewayRelayRatio),
  ];
}
