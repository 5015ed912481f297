import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InMemoryOAuthProvider } from '../helpers/e2e.ts';
import { authorizeWithForms, browserFetch, cookieJar, createPkcePair, formData, parseForms, type HtmlForm } from '../helpers/oauth-flow.ts';
import { startWorker, type WorkerServer } from './harness.ts';
import { mcpClient, signInWithSdk } from './sign-in.ts';

/**
 * Cloudflare runs a Worker in many isolates that share no memory: here the Worker and a replica of it,
 * on one D1 database. What Node keeps in a process must hold across them: MCP requests of either era
 * answered by whichever isolate gets them, login back-off counted in D1 by the address Cloudflare
 * gives (CF-Connecting-IP), a code redeemed once however many isolates race for it.
 */

const ADMIN = { username: 'admin', password: 'isolates admin password' } as const;
const REDIRECT = 'http://127.0.0.1:53682/callback';

describe('Workers: isolates starting together on an empty D1 database', () => {
  it('both start: D1 is migrated once, one signing key is active, one administrator exists', async () => {
    const worker = await startWorker({ replicas: 1, vars: { PORTCULLIS_INITIAL_ADMIN_PASSWORD: ADMIN.password } });
    try {
      const other = worker.replicaFetch(1);
      const answers = await Promise.all([fetch(`${worker.origin}/jwks`), other(`${worker.origin}/jwks`), fetch(`${worker.origin}/readyz`), other(`${worker.origin}/readyz`)]);
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200]);
      const [mine, theirs] = (await Promise.all(answers.slice(0, 2).map((a) => a.json()))) as { keys: { kid: string }[] }[];
      assert.deepEqual(mine!.keys.map((k) => k.kid), theirs!.keys.map((k) => k.kid), 'both publish the same single key');
      assert.equal(mine!.keys.length, 1);
      const db = await worker.mf.getD1Database('DB');
      assert.equal((await db.prepare('select count(*) as n from users').first<{ n: number }>())?.n, 1);
      assert.equal((await db.prepare('select count(*) as n from signing_keys where retired_at is null').first<{ n: number }>())?.n, 1);
    } finally {
      await worker.close();
    }
  });
});

describe('Workers: two isolates of the Worker on one D1 database', () => {
  let worker: WorkerServer;
  let other: typeof fetch;

  before(async () => {
    worker = await startWorker({ replicas: 1, vars: { PORTCULLIS_INITIAL_ADMIN_PASSWORD: ADMIN.password } });
    other = worker.replicaFetch(1);
  });
  after(() => worker.close());

  /** Every other request to the replica: a client whose requests land on different isolates. */
  const alternating = (): typeof fetch => {
    let n = 0;
    return (input, init) => (n++ % 2 === 0 ? fetch(input, init) : other(input, init));
  };

  for (const era of ['2025-era', '2026-07-28'] as const) {
    it(`MCP (${era}): a client whose requests alternate between isolates works, since no request depends on an isolate's memory`, async () => {
      const provider = await signInWithSdk(worker, ADMIN);
      const { client, transport } = mcpClient(worker, provider, era, alternating());
      await client.connect(transport);
      try {
        for (let i = 0; i < 4; i++) {
          const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as { username: string };
          assert.equal(me.username, ADMIN.username);
        }
      } finally {
        await client.close();
      }
    });
  }

  it('login back-off is counted in D1 by CF-Connecting-IP: failures spread over both isolates lock that address, not another', async () => {
    const address = '198.51.100.7';
    const jar = cookieJar();
    const sends = [browserFetch((u, i) => fetch(u, i), jar), browserFetch((u, i) => other(u, i), jar)];
    let form = await openLoginForm(worker, sends[0]!);
    const attempt = async (n: number, from: string, username: string) => {
      const response = await sends[n % 2]!(form.action, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'CF-Connecting-IP': from },
        body: formData(form, { username, password: 'wrong password guess' }).toString(),
      });
      const html = await response.text();
      form = parseForms(html, form.action)[0] ?? form;
      return response;
    };
    // Twenty different names, so only the per-address counter (20 failures) can lock.
    for (let n = 0; n < 20; n++) assert.equal((await attempt(n, address, `guess-${n}`)).status, 400, `attempt ${n + 1} is checked`);
    const locked = await attempt(20, address, 'guess-20');
    assert.equal(locked.status, 429, 'the address is locked, whichever isolate answers');
    assert.ok(Number(locked.headers.get('Retry-After')) > 0);
    assert.equal((await attempt(21, '203.0.113.9', 'guess-21')).status, 400, 'another address is not locked');
    const failures = worker.logs.filter((l) => l.includes('"login.failed"')).map((l) => JSON.parse(l) as { address: string });
    assert.ok(failures.some((f) => f.address === address) && failures.some((f) => f.address === '203.0.113.9'), 'the address logged is the one Cloudflare gave');
  });

  it('AS-CODE single use: 25 concurrent redemptions of one code, spread over both isolates → exactly one token', async () => {
    const registration = await fetch(`${worker.origin}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'Racer', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(registration.status, 201);
    const { client_id: clientId } = (await registration.json()) as { client_id: string };
    const pkce = createPkcePair();
    const authorize = new URL(`${worker.origin}/authorize`);
    for (const [name, value] of Object.entries({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: pkce.challenge, code_challenge_method: 'S256', state: 'race', resource: `${worker.origin}/mcp` })) {
      authorize.searchParams.set(name, value);
    }
    const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl: authorize, ...ADMIN, jar: cookieJar() });
    const code = callback.searchParams.get('code');
    assert.ok(code);
    const redeem = (n: number) =>
      (n % 2 === 0 ? fetch : other)(`${worker.origin}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: pkce.verifier, redirect_uri: REDIRECT, client_id: clientId }),
      });
    const answers = await Promise.all(Array.from({ length: 25 }, (_, n) => redeem(n)));
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(' '));
    assert.ok(statuses.every((s) => s === 200 || s === 400), statuses.join(' '));
  });

  it('the Cron Trigger deletes expired rows (HARD-8), as the timer does on Node', async () => {
    assert.equal((await fetch(`${worker.origin}/readyz`)).status, 200, 'started: D1 migrated');
    const db = await worker.mf.getD1Database('DB');
    const past = Date.now() - 3_600_000;
    await db.prepare('insert into login_sessions (id_hash, user_id, csrf_secret, created_at, expires_at) select ?, id, ?, ?, ? from users limit 1').bind('expired-session-hash', 'salt', past, past + 1).run();
    assert.equal((await db.prepare('select count(*) as n from login_sessions where id_hash = ?').bind('expired-session-hash').first<{ n: number }>())?.n, 1);
    await worker.runCron();
    for (let i = 0; i < 50; i++) {
      if ((await db.prepare('select count(*) as n from login_sessions where id_hash = ?').bind('expired-session-hash').first<{ n: number }>())?.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal((await db.prepare('select count(*) as n from login_sessions where id_hash = ?').bind('expired-session-hash').first<{ n: number }>())?.n, 0);
    assert.ok(worker.logs.some((l) => l.includes('expired rows collected')));
  });
});

/** Registers a client, opens /authorize and follows it to the login form. */
async function openLoginForm(worker: WorkerServer, send: ReturnType<typeof browserFetch>): Promise<HtmlForm> {
  const provider = new InMemoryOAuthProvider();
  const registration = await fetch(`${worker.origin}/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(provider.clientMetadata) });
  const { client_id: clientId } = (await registration.json()) as { client_id: string };
  let url = new URL(`${worker.origin}/authorize`);
  const pkce = createPkcePair();
  for (const [name, value] of Object.entries({ response_type: 'code', client_id: clientId, redirect_uri: provider.redirectUrl, code_challenge: pkce.challenge, code_challenge_method: 'S256', resource: `${worker.origin}/mcp` })) {
    url.searchParams.set(name, value);
  }
  for (let step = 0; step < 5; step++) {
    const response = await send(url);
    const location = response.headers.get('Location');
    if (location) {
      url = new URL(location, url);
      continue;
    }
    const form = parseForms(await response.text(), url)[0];
    assert.ok(form?.inputs.some((i) => i.type === 'password'), `a login form at ${url.pathname}`);
    return form!;
  }
  throw new Error('no login form');
}
