/**
 * `npm run bench`: Portcullis under load on loopback, next to the MCP TypeScript SDK's own auth stack,
 * in one run (see bench/README.md). Prints a table and writes bench/results/latest.json.
 *
 *   BENCH_QUICK=1      short runs (about a minute in all)
 *   BENCH_SECONDS=n    seconds per measured run (default 5; quick 1.5)
 *   BENCH_REPEATS=n    runs per load figure, best kept (default 2; quick 1)
 *   BENCH_CPU_PROF=1   write a V8 CPU profile of each measured phase to bench/results/profiles/
 *                      (the profiler slows the servers: take figures from a run without it)
 *   BENCH_NO_PIN=1     do not pin the server and the load generator to separate cores
 *   BENCH_ONLY=a,b     only these phases: flows, memory, tools-call, refresh, dpop, gateway, calibration, sweep
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planCores } from './lib/cores.ts';
import { createFixture, SCOPES } from './lib/fixture.ts';
import type { FlowTarget } from './lib/flows.ts';
import { measureDpop } from './lib/dpop.ts';
import { measureGateway } from './lib/gateway.ts';
import { HttpClient } from './lib/http-client.ts';
import { MCP_PATH } from './lib/mcp.ts';
import { clientCount, measureCalibration, measureFlows, measureMemory, measureRefresh, measureToolsCall, signIn, type Bench } from './lib/phases.ts';
import { formatReport } from './lib/report.ts';
import { measureSweep } from './lib/sweep.ts';
import type { BenchReport } from './lib/results.ts';
import { ServerProcess } from './lib/server-process.ts';
import { PHASES, phasesFromEnv, profileFromEnv, type BenchProfile, type Phase } from './lib/settings.ts';
import type { ServerSpec } from './servers/types.ts';

export interface BenchOptions {
  pin: boolean;
  /** Which measurements to run (default: all). First-time flows always run: they sign the users in. */
  phases?: ReadonlySet<Phase>;
  /** Directory for CPU profiles of the measured phases, or undefined for none. */
  cpuProfileDir?: string;
  log?: (line: string) => void;
}

/**
 * Sets up a SQLite file with users and clients, starts Portcullis (and, when a phase needs it, the
 * SDK peer and a bare server) in child processes, signs the users in, runs the chosen phases and
 * stops every process, whatever happens.
 */
export async function runBench(profile: BenchProfile, options: BenchOptions): Promise<BenchReport> {
  const phases = options.phases ?? new Set(PHASES);
  const cores = planCores(options.pin);
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const servers: ServerProcess[] = [];
  const start = async (label: string, spec: ServerSpec, placement: { core?: 'server' | 'load' } = {}): Promise<ServerProcess> => {
    const server = await ServerProcess.start(spec, { pin: placement.core === 'load' ? cores.loadPrefix : cores.serverPrefix, label });
    servers.push(server);
    return server;
  };
  const profileFile = (name: string): string | undefined => (options.cpuProfileDir ? join(options.cpuProfileDir, `${name}.cpuprofile`) : undefined);
  const conditions: BenchReport['conditions'] = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    layout: cores.description,
    profile,
    phases: PHASES.filter((p) => phases.has(p)),
    cpuProfiled: options.cpuProfileDir !== undefined,
  };

  try {
    const fixture = await createFixture(dir, { users: clientCount(profile), freshClients: Math.max(0, profile.firstTimeFlows - clientCount(profile)) });
    const user = fixture.users[0]!;
    // The auth-off endpoints act for the same user and client as the load's access token.
    const fixedPrincipal = { subject: user.id, clientId: fixture.clientId, scopes: SCOPES };
    const portcullis = await start('portcullis', { kind: 'portcullis', database: fixture.database, noAuth: fixedPrincipal });
    const started = await portcullis.usage();
    const issuer = `http://localhost:${portcullis.port()}`;
    const target: FlowTarget = { origin: portcullis.origin(), issuer, resource: `${issuer}${MCP_PATH}` };

    let peer: Promise<ServerProcess> | undefined;
    const bench: Bench = {
      profile,
      fixture,
      portcullis,
      target,
      start,
      profileFile,
      log: options.log ?? (() => {}),
      loadOptions: (name) => ({ connections: profile.connections, seconds: profile.seconds, warmupSeconds: profile.warmupSeconds, profileFile: profileFile(name) }),
      // The peer verifies Portcullis's access tokens with its published keys.
      sdkPeer: () =>
        (peer ??= (async () => {
          const http = new HttpClient(target.origin);
          const jwks = JSON.parse((await http.send('GET', '/jwks')).body) as { keys: unknown[] };
          http.close();
          return start('sdk', { kind: 'sdk', database: fixture.database, jwks, issuer, audience: target.resource, noAuth: fixedPrincipal });
        })()),
    };

    bench.log('first-time flows (login with scrypt + consent)…');
    const { firstTime, cookies } = await signIn(bench);
    const report: BenchReport = { conditions, firstTime, finalRss: {} };
    // tools/call twice: in a fresh process, and after the flows (caches full, an older heap), where
    // the auth ratio used to drop (bench/README.md).
    if (phases.has('tools-call')) report.toolsCall = await measureToolsCall(bench, cookies, 'fresh');
    if (phases.has('flows')) report.flows = await measureFlows(bench, cookies);
    if (phases.has('memory')) report.memory = await measureMemory(bench, cookies, started);
    if (phases.has('tools-call') && report.memory) {
      report.toolsCallAfterFlows = { ...(await measureToolsCall(bench, cookies, 'after-flows')), flowsBefore: 2 * report.memory.flowsPerBatch };
    }
    if (phases.has('refresh')) report.refresh = await measureRefresh(bench);
    if (phases.has('dpop')) report.dpop = await measureDpop(bench, cookies);
    if (phases.has('gateway')) report.gateway = await measureGateway(bench, cookies);
    if (phases.has('calibration')) report.calibration = await measureCalibration(bench);
    // In this process, with the servers idle: it measures its own event loop (bench/lib/sweep.ts).
    if (phases.has('sweep')) report.sweep = await measureSweep(profile.sweepRows, bench.log);
    for (const server of servers) report.finalRss[server.label] = (await server.usage()).rss;
    return report;
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  const cpuProfileDir = process.env['BENCH_CPU_PROF'] === '1' ? join(resultsDir, 'profiles') : undefined;
  if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });
  const report = await runBench(profileFromEnv(process.env), {
    pin: process.env['BENCH_NO_PIN'] !== '1',
    phases: phasesFromEnv(process.env),
    ...(cpuProfileDir ? { cpuProfileDir } : {}),
    log: (line) => process.stderr.write(`  ${line}\n`),
  });
  writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(formatReport(report) + '\n');
  process.stdout.write(`\nJSON: ${join(resultsDir, 'latest.json')}\n`);
}
