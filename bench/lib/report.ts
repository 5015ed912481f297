import { formatSweep } from './sweep.ts';
import type { BenchReport } from './results.ts';
import type { LoadResult } from './load.ts';
import { best } from './stats.ts';

/** The targets of issues 6 and 10, on this machine. */
export const TARGETS = { authRatio: 0.95, refreshPerSecond: 5000, sequentialFlowMedianMs: 15, gatewayRelayRatio: 2 } as const;

/** The figures the issue asks about, from the best run of each (NaN where a phase did not run). */
export interface Headline {
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
  portcullisRefreshPerSecond: number;
  refreshVsSdk: number;
  sequentialFlowMedianMs: number;
  /** Heap used after GC, second batch minus first batch, in MiB. */
  heapGrowthMiB: number;
  rssGrowthMiB: number;
  /** Gateway CPU per relayed tools/call ÷ the bare proxy's, lowest of the runs each (target ≤ 2). */
  gatewayRelayRatio: number;
}

const top = (runs: readonly LoadResult[]): LoadResult => best(runs, (r) => r.rps);
const leanest = (runs: readonly LoadResult[]): number => Math.min(...runs.map((r) => r.cpuMicrosPerRequest));
const mib = (bytes: number): number => bytes / 1024 / 1024;

export function headline(report: BenchReport): Headline {
  const t = report.toolsCall;
  const r = report.refresh;
  const [first, second] = report.memory?.afterBatchGc ?? [];
  return {
    portcullisAuthRatio: t ? top(t.portcullisAuth).rps / top(t.portcullisNoAuth).rps : Number.NaN,
    sdkAuthRatio: t ? top(t.sdkAuth).rps / top(t.sdkNoAuth).rps : Number.NaN,
    portcullisAuthCpuRatio: t ? leanest(t.portcullisNoAuth) / leanest(t.portcullisAuth) : Number.NaN,
    sdkAuthCpuRatio: t ? leanest(t.sdkNoAuth) / leanest(t.sdkAuth) : Number.NaN,
    toolsCallVsSdk: t ? top(t.portcullisAuth).rps / top(t.sdkAuth).rps : Number.NaN,
    portcullisRefreshPerSecond: r ? top(r.portcullis).rps : Number.NaN,
    refreshVsSdk: r ? top(r.portcullis).rps / top(r.sdk).rps : Number.NaN,
    sequentialFlowMedianMs: report.flows?.sequential.medianMs ?? Number.NaN,
    heapGrowthMiB: first && second ? mib(second.heapUsed - first.heapUsed) : Number.NaN,
    rssGrowthMiB: first && second ? mib(second.rss - first.rss) : Number.NaN,
    gatewayRelayRatio: report.gateway ? leanest(report.gateway.toolsCall.gateway) / leanest(report.gateway.toolsCall.bareProxy) : Number.NaN,
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

  if (report.toolsCall) {
    const t = report.toolsCall;
    lines.push(
      '',
      'MCP tools/call (whoami, 2025-06-18 session)',
      HEADER,
      loadRow('Portcullis, auth', t.portcullisAuth),
      loadRow('Portcullis, no auth (bench-only endpoint)', t.portcullisNoAuth),
      loadRow('SDK v1 (Express, requireBearerAuth), auth', t.sdkAuth),
      loadRow('SDK v1, no auth', t.sdkNoAuth),
      `  auth ratio, req/s: Portcullis ${fixed(h.portcullisAuthRatio, 2)} (target ≥ ${TARGETS.authRatio}: ${verdict(h.portcullisAuthRatio >= TARGETS.authRatio)}), SDK ${fixed(h.sdkAuthRatio, 2)}`,
      `  auth ratio, CPU per request: Portcullis ${fixed(h.portcullisAuthCpuRatio, 2)}, SDK ${fixed(h.sdkAuthCpuRatio, 2)} (what req/s shows when every run is server-bound)`,
      `  Portcullis ÷ SDK, authenticated: ${fixed(h.toolsCallVsSdk, 2)}×`,
    );
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
  return lines.join('\n');
}
