import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReport, headline } from '../../bench/lib/report.ts';
import { FULL_PROFILE, type BenchProfile } from '../../bench/lib/settings.ts';
import { runBench } from '../../bench/run.ts';

/**
 * Keeps `npm run bench` working: every phase of the real harness (server processes, real sockets,
 * autocannon, the OAuth flows, the SDK peer) runs for a fraction of a second. Nothing here asserts
 * on speed: only that each measurement happened and every request it made succeeded.
 */
const TINY: BenchProfile = {
  ...FULL_PROFILE,
  seconds: 0.3,
  warmupSeconds: 0,
  repeats: 1,
  sequentialFlows: 3,
  concurrentFlows: 4,
  concurrency: 2,
  memoryFlows: 4,
  firstTimeFlows: 3,
  refreshCeilingPerSecond: { portcullis: 20_000, sdk: 50_000 },
  sseSamples: 3,
  sweepRows: 2000,
};

describe('bench harness (npm run bench) smoke test', () => {
  it('runs every phase against Portcullis, the SDK peer and the gateway relay and reports each figure, the issue-10 rows beside their targets', { timeout: 180_000 }, async () => {
    const report = await runBench(TINY, { pin: false });

    assert.equal(report.firstTime.n, 3, 'first-time flows: login with scrypt and consent through the real pages');
    assert.equal(report.flows?.sequential.n, 3);
    assert.equal(report.flows?.concurrent.n, 4);
    assert.equal(report.memory?.afterBatchGc.length, 2);
    assert.ok(report.memory!.idle.heapUsed > 0);

    const { toolsCall, toolsCallAfterFlows, refresh, dpop, gateway, calibration } = report;
    assert.ok(toolsCall && toolsCallAfterFlows && refresh && dpop && gateway && calibration, 'tools/call runs fresh and again after the memory phase');
    const relayed = { gatewayRelay: gateway.toolsCall.gateway, bareProxyRelay: gateway.toolsCall.bareProxy, upstreamDirect: gateway.toolsCall.direct, dpopBearer: dpop.bearer, dpopProof: dpop.dpop };
    const { flowsBefore: _flows, ...aged } = toolsCallAfterFlows;
    const agedRuns = Object.fromEntries(Object.entries(aged).map(([k, v]) => [`${k}AfterFlows`, v]));
    for (const [name, runs] of Object.entries({ ...toolsCall, ...agedRuns, ...relayed, portcullisRefresh: refresh.portcullis, sdkRefresh: refresh.sdk, bare: calibration.bareNodeHttp })) {
      assert.equal(runs.length, 1, name);
      const [run] = runs;
      assert.ok(run!.requests > 0, `${name}: requests were made`);
      assert.ok(run!.rps > 0, `${name}: some succeeded`);
      assert.equal(run!.errors, 0, `${name}: no connection errors`);
      assert.ok(Number.isFinite(run!.cpuMicrosPerRequest), `${name}: server CPU was read`);
    }
    // tools/call requests all succeed; a refresh pool may run out in a tiny run, which shows as non-2xx.
    for (const [name, runs] of Object.entries({ ...toolsCall, ...agedRuns, ...relayed })) assert.equal(runs[0]!.non2xx, 0, `${name}: every tools/call succeeded`);
    for (const [name, latency] of Object.entries(gateway.sseFirstEvent)) assert.equal(latency.n, 3, `${name}: SSE first-event latency measured`);

    const figures = headline(report);
    assert.ok(Number.isFinite(figures.portcullisAuthRatio) && Number.isFinite(figures.refreshVsSdk) && Number.isFinite(figures.gatewayRelayRatio) && Number.isFinite(figures.dpopCpuRatio));
    assert.ok(Number.isFinite(figures.afterFlows.paired.portcullisAuthCpuRatio) && Number.isFinite(figures.paired.toolsCallCpuVsSdk) && Number.isFinite(figures.refreshCpuVsSdk));
    const table = formatReport(report);
    for (const heading of ['MCP tools/call', 'Refresh grant', 'Full flow', 'Memory', 'Gateway', 'relay ratio', 'DPoP', 'Calibration', 'Expiry sweep']) assert.match(table, new RegExp(heading));
    // HARD-8: the sweep phase deleted the same rows both ways, the new way in batches.
    const { sweep } = report;
    assert.ok(sweep);
    assert.equal(sweep.before.full.rowsDeleted, 1000);
    assert.equal(sweep.after.full.rowsDeleted, 1000);
    assert.ok(sweep.after.full.batches >= 2, 'the batched sweep ran more than one statement');
    assert.equal(sweep.after.empty.rowsDeleted, 0);
    // Issue 10: every row beside its target, measured or not.
    for (const row of ['auth ratio, fresh', 'auth ratio, after 8 flows', 'authenticated tools/call × SDK v1, fresh', 'refresh CPU ÷ SDK peer refresh CPU', 'gateway relay CPU ÷ bare proxy CPU']) {
      assert.match(table, new RegExp(`${row.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +[0-9.]+ +target [≥≤] [0-9.]+×?: (met|NOT met)`), row);
    }
  });
});
