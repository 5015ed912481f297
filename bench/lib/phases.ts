/**
 * The measurements of `npm run bench`, one function per phase, over the servers and the signed-in
 * users that `run.ts` sets up.
 */
import type { ServerSpec, Usage } from '../servers/types.ts';
import { createRefreshTokens, SCOPES, type Fixture } from './fixture.ts';
import { firstTimeFlow, rememberedFlow, type FlowTarget } from './flows.ts';
import { HttpClient } from './http-client.ts';
import { measureLoad, type LoadOptions, type LoadResult, type LoadSpec } from './load.ts';
import { MCP_PATH, mcpHeaders, openSession, whoamiCallBody } from './mcp.ts';
import { summarize, type BenchReport, type LatencySummary, type ToolsCallRuns } from './results.ts';
import type { ServerProcess } from './server-process.ts';
import type { BenchProfile } from './settings.ts';

/** What every phase works with. */
export interface Bench {
  profile: BenchProfile;
  fixture: Fixture;
  /** The real server, with the bench-only auth-off MCP endpoint on its `noAuth` listener. */
  portcullis: ServerProcess;
  target: FlowTarget;
  /** The SDK v1 peer, started on first use. */
  sdkPeer(): Promise<ServerProcess>;
  /** Starts a server on the server core, or with `core: 'load'` a helper beside the load generator. */
  start(label: string, spec: ServerSpec, options?: { core?: 'server' | 'load' }): Promise<ServerProcess>;
  loadOptions(profileName: string): LoadOptions;
  /** Where to write the CPU profile of a phase, or undefined when not profiling. */
  profileFile(name: string): string | undefined;
  log(line: string): void;
}

/** The number of concurrent clients, each with its own user. */
export const clientCount = (profile: BenchProfile): number => Math.max(1, profile.concurrency);

/**
 * First-time flows: each user signs in once with the main client (that browser session and that
 * consent serve the remembered flows), then fresh clients make the rest of the samples. Returns the
 * latencies and each user's session cookie.
 */
export async function signIn(b: Pick<Bench, 'profile' | 'fixture' | 'target'>): Promise<{ firstTime: LatencySummary; cookies: string[] }> {
  const clients = clientCount(b.profile);
  const http = new HttpClient(b.target.origin);
  const cookies: string[] = [];
  const latencies: number[] = [];
  try {
    for (let i = 0; i < Math.max(clients, b.profile.firstTimeFlows); i++) {
      const clientId = i < clients ? b.fixture.clientId : b.fixture.freshClientIds[i - clients]!;
      const outcome = await firstTimeFlow(http, b.target, b.fixture.users[i % clients]!, clientId);
      latencies.push(outcome.ms);
      if (i < clients) cookies.push(outcome.jar.header(b.target.issuer) ?? '');
    }
  } finally {
    http.close();
  }
  return { firstTime: summarize(latencies), cookies };
}

/** `flows` remembered flows spread over `clients` clients (one user each); each flow's latency. */
async function runFlows(b: Bench, cookies: readonly string[], flows: number, clients: number): Promise<number[]> {
  const latencies: number[] = [];
  let started = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const http = new HttpClient(b.target.origin);
      try {
        while (started < flows) {
          started++;
          latencies.push((await rememberedFlow(http, b.target, b.fixture.users[i]!, b.fixture.clientId, cookies[i]!)).ms);
        }
      } finally {
        http.close();
      }
    }),
  );
  return latencies;
}

export async function measureFlows(b: Bench, cookies: readonly string[]): Promise<NonNullable<BenchReport['flows']>> {
  const { profile, portcullis } = b;
  b.log('sequential flows…');
  await runFlows(b, cookies, Math.min(50, profile.sequentialFlows), 1);
  const sequential = await portcullis.profiled(b.profileFile('portcullis-flows-sequential'), () => runFlows(b, cookies, profile.sequentialFlows, 1));
  const clients = clientCount(profile);
  b.log(`${clients} concurrent clients…`);
  const before = await portcullis.usage();
  const started = performance.now();
  const concurrent = await portcullis.profiled(b.profileFile('portcullis-flows-concurrent'), () => runFlows(b, cookies, profile.concurrentFlows, clients));
  const seconds = (performance.now() - started) / 1000;
  const after = await portcullis.usage();
  return {
    sequential: summarize(sequential),
    concurrent: {
      ...summarize(concurrent),
      clients,
      flowsPerSecond: concurrent.length / seconds,
      cpuMicrosPerFlow: (after.cpuMicros - before.cpuMicros) / concurrent.length,
    },
  };
}

/** Two batches of flows, with the server's memory after each and after a forced GC. */
export async function measureMemory(b: Bench, cookies: readonly string[], started: Usage): Promise<NonNullable<BenchReport['memory']>> {
  b.log(`memory: 2 × ${b.profile.memoryFlows} flows…`);
  const idle = await b.portcullis.collectGarbage();
  const afterBatch: Usage[] = [];
  const afterBatchGc: Usage[] = [];
  for (let batch = 0; batch < 2; batch++) {
    await runFlows(b, cookies, b.profile.memoryFlows, clientCount(b.profile));
    afterBatch.push(await b.portcullis.usage());
    afterBatchGc.push(await b.portcullis.collectGarbage());
  }
  return { flowsPerBatch: b.profile.memoryFlows, started, idle, afterBatch, afterBatchGc };
}

/**
 * `whoami` in an open session, with and without auth, on Portcullis and on the SDK peer. `stage`
 * names the CPU profiles: the phase runs fresh and again after the memory phase's flows.
 */
export async function measureToolsCall(b: Bench, cookies: readonly string[], stage: 'fresh' | 'after-flows' = 'fresh'): Promise<ToolsCallRuns> {
  const { portcullis, fixture, target, profile } = b;
  // The token of an everyday flow, as a client holds it; the peer verifies the very same token.
  const http = new HttpClient(target.origin);
  const { accessToken } = await rememberedFlow(http, target, fixture.users[0]!, fixture.clientId, cookies[0]!);
  http.close();
  const peer = await b.sdkPeer();
  const runs: ToolsCallRuns = { portcullisAuth: [], portcullisNoAuth: [], sdkAuth: [], sdkNoAuth: [] };
  const variants = [
    { runs: runs.portcullisAuth, server: portcullis, listener: 'main', token: accessToken },
    { runs: runs.portcullisNoAuth, server: portcullis, listener: 'noAuth', token: undefined },
    { runs: runs.sdkAuth, server: peer, listener: 'main', token: accessToken },
    { runs: runs.sdkNoAuth, server: peer, listener: 'noAuth', token: undefined },
  ] as const;

  const specs = new Map<(typeof variants)[number], LoadSpec>();
  for (const v of variants) {
    const client = new HttpClient(v.server.origin(v.listener));
    const sessionId = await openSession(client, v.token);
    client.close();
    specs.set(v, { origin: v.server.origin(v.listener), path: MCP_PATH, method: 'POST', headers: mcpHeaders(v.token, sessionId), body: whoamiCallBody('[<id>]') });
  }
  // The first run after another phase is slower (the JIT re-specializes): warm every variant up
  // before measuring any, then alternate the order (ABBA), so drift touches each side alike.
  b.log(`tools/call (${stage}), warming up…`);
  for (const v of variants) await measureLoad(v.server, specs.get(v)!, { ...b.loadOptions('warm-up'), seconds: profile.warmupSeconds + 1, profileFile: undefined });
  for (let r = 0; r < profile.repeats; r++) {
    b.log(`tools/call (${stage}), run ${r + 1} of ${profile.repeats}…`);
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      const name = `${v.server.label}-${v.listener === 'main' ? 'auth' : 'no-auth'}-tools-call-${stage}`;
      v.runs.push(await measureLoad(v.server, specs.get(v)!, b.loadOptions(name)));
    }
  }
  return runs;
}

/** Refresh grants on Portcullis and on the SDK peer's token endpoint, every one a real rotation. */
export async function measureRefresh(b: Bench): Promise<NonNullable<BenchReport['refresh']>> {
  const { portcullis, fixture, target, profile } = b;
  const peer = await b.sdkPeer();
  const user = fixture.users[0]!;
  const seconds = profile.seconds + profile.warmupSeconds;
  const poolPerRun = { portcullis: Math.ceil(seconds * profile.refreshCeilingPerSecond.portcullis), sdk: Math.ceil(seconds * profile.refreshCeilingPerSecond.sdk) };
  const runs: NonNullable<BenchReport['refresh']> = { portcullis: [], sdk: [], poolPerRun };
  for (let r = 0; r < profile.repeats; r++) {
    b.log(`refresh grant, run ${r + 1} of ${profile.repeats} (creating ${poolPerRun.portcullis} refresh tokens)…`);
    const ours = await createRefreshTokens(fixture.database, { count: poolPerRun.portcullis, user, clientId: fixture.clientId, resource: target.resource });
    runs.portcullis.push(await measureLoad(portcullis, refreshSpec(portcullis.origin(), ours, fixture.clientId, target.resource), b.loadOptions('portcullis-refresh')));
    const theirs = (await peer.command('seed-refresh', { count: poolPerRun.sdk, clientId: fixture.clientId, subject: user.id, scopes: SCOPES })) as string[];
    runs.sdk.push(await measureLoad(peer, refreshSpec(peer.origin(), theirs, fixture.clientId, target.resource), b.loadOptions('sdk-refresh')));
  }
  return runs;
}

/**
 * Each request presents a refresh token not used before: a real rotation every time. It names the
 * resource, as MCP clients must (RFC 8707). When the pool runs out, a made-up token is sent, which
 * fails (counted as non-2xx) instead of being mistaken for a retry within the grace period.
 */
function refreshSpec(origin: string, tokens: readonly string[], clientId: string, resource: string): LoadSpec {
  let next = 0;
  return {
    origin,
    path: '/token',
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    nextBody: () => new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens[next++] ?? 'pool-exhausted', client_id: clientId, resource }).toString(),
  };
}

/** A bare node:http server: the load generator's ceiling on this machine, and how busy it is. */
export async function measureCalibration(b: Bench): Promise<NonNullable<BenchReport['calibration']>> {
  const bare = await b.start('bare', { kind: 'bare' });
  const runs: LoadResult[] = [];
  for (let r = 0; r < b.profile.repeats; r++) runs.push(await measureLoad(bare, { origin: bare.origin(), path: '/', method: 'GET', headers: {} }, b.loadOptions('bare')));
  return { bareNodeHttp: runs };
}
