/**
 * Portcullis on Workers (workerd under Miniflare, local D1) against Portcullis on Node (in-memory
 * SQLite), same flows, same machine, driven over loopback sockets by the official SDK client:
 *
 * - a whole first sign-in (401, discovery, registration, login page, password check, consent, code
 *   exchange) and a tools/call after it;
 * - a tools/call (2026-07-28) and a refresh, each alone;
 * - the cost of one password hash (scrypt N=2^15, r=8, p=1, as src/identity/passwords.ts) inside
 *   workerd, which is the CPU a login spends there.
 *
 *   node --conditions=portcullis-source --experimental-strip-types bench/workers.ts [rounds]
 *
 * Local workerd is not Cloudflare's edge (no network between the Worker and D1 here, where D1 is
 * one region away in production): read the Workers column as CPU and code path, not as what users see.
 */
import { Miniflare } from 'miniflare';
import { createUser } from '../src/identity/users.ts';
import { systemRandom } from '../src/util/crypto.ts';
import { startRealServer } from '../test/helpers/e2e.ts';
import { startWorker } from '../test/workers/harness.ts';
import { mcpClient, signInWithSdk } from '../test/workers/sign-in.ts';

const ROUNDS = Number(process.argv[2] ?? 10);
const USER = { username: 'admin', password: 'bench password for workers' } as const;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ms = (value: number): string => `${value.toFixed(1)} ms`;

async function measure(origin: string): Promise<Record<string, number>> {
  const signIns: number[] = [];
  const calls: number[] = [];
  const refreshes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let started = performance.now();
    const provider = await signInWithSdk({ origin }, USER);
    const { client, transport } = mcpClient({ origin }, provider, '2026-07-28');
    await client.connect(transport);
    await client.callTool({ name: 'whoami', arguments: {} });
    signIns.push(performance.now() - started);

    started = performance.now();
    await client.callTool({ name: 'list_tasks', arguments: {} });
    calls.push(performance.now() - started);

    started = performance.now();
    const refreshed = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: provider.tokenSet!.refresh_token!, client_id: provider.client!.client_id }),
    });
    if (refreshed.status !== 200) throw new Error(`refresh failed: ${refreshed.status}`);
    await refreshed.arrayBuffer();
    refreshes.push(performance.now() - started);
    await client.close();
  }
  return { 'first sign-in + tools/call': median(signIns), 'tools/call': median(calls), refresh: median(refreshes) };
}

/** scrypt as src/identity/passwords.ts runs it, timed inside workerd (local time advances during CPU work). */
async function hashCostInWorkerd(): Promise<number> {
  const code = `
    import { scrypt, randomBytes } from 'node:crypto';
    export default { async fetch() {
      const started = performance.now();
      await new Promise((resolve, reject) => scrypt('a password', randomBytes(16), 32, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (e, k) => (e ? reject(e) : resolve(k))));
      return Response.json(performance.now() - started);
    } };`;
  const mf = new Miniflare({ workers: [{ config: { name: 'kdf', compatibilityDate: '2026-11-01', compatibilityFlags: ['nodejs_compat'], manifest: { mainModule: 'kdf.js', modules: { 'kdf.js': { type: 'esm', contents: code } } } } }] });
  try {
    const samples: number[] = [];
    for (let i = 0; i < ROUNDS + 2; i++) samples.push((await (await mf.dispatchFetch('http://kdf/')).json()) as number);
    return median(samples.slice(2));
  } finally {
    await mf.dispose();
  }
}

// The same account on both: the Worker's first administrator, and a user of that name on Node.
const worker = await startWorker({ vars: { PORTCULLIS_INITIAL_ADMIN_PASSWORD: USER.password, LOG_LEVEL: 'warn' } });
const node = await startRealServer();
try {
  await createUser(node.portcullis.ctx.storage, USER, { now: Date.now(), random: systemRandom });

  const onWorkers = await measure(worker.origin);
  const onNode = await measure(node.origin);
  const kdf = await hashCostInWorkerd();
  process.stdout.write(`\nMedians of ${ROUNDS} rounds (loopback, this machine)\n\n| | Node (SQLite) | Workers (workerd, local D1) |\n| --- | --- | --- |\n`);
  for (const name of Object.keys(onNode)) process.stdout.write(`| ${name} | ${ms(onNode[name]!)} | ${ms(onWorkers[name]!)} |\n`);
  process.stdout.write(`\nPassword hash per login inside workerd (scrypt N=2^15, r=8, p=1): ${ms(kdf)}\n`);
} finally {
  await worker.close();
  await node.close();
}
