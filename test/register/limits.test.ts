import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { mountRegistration } from '../../src/authorization/endpoints/register.ts';
import { renderErrorJson } from '../../src/errors/render.ts';
import { addressKey, createRateLimiter } from '../../src/http/rate-limit.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import type { Storage } from '../../src/storage/types.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../helpers/app.ts';
import { PUBLIC_CLIENT } from './helpers.ts';

/** A registration as it arrives through @hono/node-server: the socket's address in `env.incoming`. */
function registerFrom(t: { app: Hono }, address: string | undefined, body: unknown = PUBLIC_CLIENT): Promise<Response> {
  const request = new Request(`${TEST_ORIGIN}/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const env = address === undefined ? undefined : { incoming: { socket: { remoteAddress: address } } };
  return Promise.resolve(t.app.fetch(request, env));
}

describe('registration rate limit (SEC-48)', () => {
  it('SEC-48 past registration.perMinute an address gets 429 rate_limited with Retry-After until its minute ends, then recovers', async () => {
    const t = await createTestApp({ registration: { enabled: true, perMinute: 3 } });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await registerFrom(t, '203.0.113.7')).status, 201);
      t.clock.advance(15_000);
      const limited = await registerFrom(t, '203.0.113.7');
      assert.equal(limited.status, 429);
      assert.deepEqual(await limited.json(), { error: 'rate_limited', error_description: 'Too many requests. Try again later.' });
      assert.equal(limited.headers.get('retry-after'), '45'); // the window opened by the first request ends a minute after it
      t.clock.advance(44_000);
      assert.equal((await registerFrom(t, '203.0.113.7')).status, 429);
      t.clock.advance(1_000);
      assert.equal((await registerFrom(t, '203.0.113.7')).status, 201);
    } finally {
      await t.close();
    }
  });

  it('SEC-48 refusals are counted by limit in portcullis_rate_limited_total when metrics are on', async () => {
    const t = await createTestApp({ registration: { enabled: true, perMinute: 1 }, metrics: { enabled: true } });
    try {
      assert.equal((await registerFrom(t, '203.0.113.7')).status, 201);
      for (let i = 0; i < 3; i++) assert.equal((await registerFrom(t, '203.0.113.7')).status, 429);
      assert.match(await t.ctx.metrics!.registry.metrics(), /^portcullis_rate_limited_total\{limit="register"\} 3$/m);
    } finally {
      await t.close();
    }
  });

  it('SEC-48 addresses have separate buckets; X-Forwarded-For is not trusted', async () => {
    const t = await createTestApp({ registration: { enabled: true, perMinute: 1 } });
    try {
      assert.equal((await registerFrom(t, '203.0.113.7')).status, 201);
      assert.equal((await registerFrom(t, '198.51.100.9')).status, 201);
      const spoofed = new Request(`${TEST_ORIGIN}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '192.0.2.1' },
        body: JSON.stringify(PUBLIC_CLIENT),
      });
      assert.equal((await t.app.fetch(spoofed, { incoming: { socket: { remoteAddress: '203.0.113.7' } } })).status, 429);
    } finally {
      await t.close();
    }
  });

  it('SEC-48 a refused request is rate-limited too (no free retries with bad metadata)', async () => {
    const t = await createTestApp({ registration: { enabled: true, perMinute: 1 } });
    try {
      assert.equal((await registerFrom(t, '203.0.113.7', { redirect_uris: ['http://evil.example/cb'] })).status, 400);
      assert.equal((await registerFrom(t, '203.0.113.7')).status, 429);
    } finally {
      await t.close();
    }
  });

  it('without a socket (in-process) every caller shares one bucket rather than none', async () => {
    const t = await createTestApp({ registration: { enabled: true, perMinute: 1 } });
    try {
      assert.equal((await registerFrom(t, undefined)).status, 201);
      assert.equal((await registerFrom(t, undefined)).status, 429);
    } finally {
      await t.close();
    }
  });

  it('IPv6 addresses in one /64 share a bucket; IPv4-mapped addresses count as IPv4', () => {
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), addressKey('2001:db8:1:2:bbbb::2'));
    assert.notEqual(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
    assert.equal(addressKey('2001:db8::1'), '2001:0db8:0000:0000::/64');
    assert.equal(addressKey('::1'), '0000:0000:0000:0000::/64');
    assert.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
  });

  it('SEC-48 a key over its limit is refused from memory until its window ends: one store write per window, not per request', async () => {
    const storage = await openSqliteStorage(':memory:');
    try {
      let writes = 0;
      const counted = { rateLimits: { hit: (...args: Parameters<Storage['rateLimits']['hit']>) => (writes++, storage.rateLimits.hit(...args)) } };
      const clock = new ManualClock(1_000_000);
      const limiter = createRateLimiter({ name: 'test', perMinute: 2, storage: counted, clock });
      const results = [];
      for (let i = 0; i < 50; i++) results.push((await limiter.take('flood')).ok);
      assert.deepEqual(results.slice(0, 3), [true, true, false]);
      assert.ok(results.slice(2).every((ok) => !ok));
      assert.equal(writes, 3, 'two counted, one found over, the rest refused without asking');
      clock.advance(60_000);
      assert.deepEqual(await limiter.take('flood'), { ok: true });
      assert.equal(writes, 4);
    } finally {
      await storage.close();
    }
  });

  it('the memory of refused keys is bounded: a flood of addresses cannot grow it without limit', async () => {
    const storage = await openSqliteStorage(':memory:');
    try {
      let writes = 0;
      const counted = { rateLimits: { hit: (...args: Parameters<Storage['rateLimits']['hit']>) => (writes++, storage.rateLimits.hit(...args)) } };
      const clock = new ManualClock(1_000_000);
      const limiter = createRateLimiter({ name: 'test', perMinute: 1, storage: counted, clock, maxRefusedKeys: 3 });
      for (const k of ['a', 'b', 'c', 'd', 'e']) {
        await limiter.take(k);
        assert.equal((await limiter.take(k)).ok, false);
      }
      writes = 0;
      assert.equal((await limiter.take('e')).ok, false);
      assert.equal(writes, 0, "'e' is remembered");
      // 'a' was forgotten to make room, yet still refused: the store is the truth, the memory only a shortcut.
      assert.equal((await limiter.take('a')).ok, false);
      assert.equal(writes, 1, "'a' was asked of the store again");
    } finally {
      await storage.close();
    }
  });
});

describe('registration cap', () => {
  async function capped(t: TestApp, max: number): Promise<Hono> {
    const app = new Hono();
    mountRegistration(app, t.ctx, { maxDynamicClients: max });
    app.onError((e) => renderErrorJson(e, t.ctx.logger));
    return app;
  }

  it('SEC-48 beyond the cap new clients are refused with 503 and a clear message; reuse still works', async () => {
    const t = await createTestApp({ registration: { enabled: true, perMinute: 100 } });
    try {
      const app = await capped(t, 2);
      assert.equal((await registerFrom({ app }, '192.0.2.1', PUBLIC_CLIENT)).status, 201);
      assert.equal((await registerFrom({ app }, '192.0.2.1', { ...PUBLIC_CLIENT, client_name: 'Second' })).status, 201);
      const full = await registerFrom({ app }, '192.0.2.1', { ...PUBLIC_CLIENT, client_name: 'Third' });
      assert.equal(full.status, 503);
      const json = (await full.json()) as { error: string; error_description: string };
      assert.equal(json.error, 'temporarily_unavailable');
      assert.match(json.error_description, /limit of registered clients/);
      assert.equal(await t.storage.clients.count(), 2);
      // An identical public registration is answered from the existing client, cap or not.
      assert.equal((await registerFrom({ app }, '192.0.2.1', PUBLIC_CLIENT)).status, 201);
    } finally {
      await t.close();
    }
  });

  it('clients added by the operator (CLI) do not count against the dynamic cap', async () => {
    const t = await createTestApp({ registration: { enabled: true, perMinute: 100 } });
    try {
      const { registerClient, validateClientMetadata } = await import('../../src/authorization/clients/register-client.ts');
      await registerClient(t.ctx, validateClientMetadata({ redirect_uris: ['https://op.example/cb'] }, t.ctx.capabilities), { source: 'cli' });
      const app = await capped(t, 1);
      assert.equal((await registerFrom({ app }, '192.0.2.1')).status, 201);
    } finally {
      await t.close();
    }
  });
});

describe('registration CORS (SEC-24)', () => {
  it('a browser-based client may register cross-origin (preflight answered)', async () => {
    const t = await createTestApp();
    try {
      const res = await t.request('/register', {
        method: 'OPTIONS',
        headers: { Origin: 'https://inspector.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), 'https://inspector.example');
    } finally {
      await t.close();
    }
  });
});
