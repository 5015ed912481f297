import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { resolveConfig } from '../../src/config/resolve.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { startNodeServer, type NodeServer } from '../../src/runtime/node.ts';
import { authorizationRequestUrl, authorizeWithForms, createPkcePair, FlowError, registerPublicClient } from '../helpers/oauth-flow.ts';
import { PUBLIC_CLIENT } from '../register/helpers.ts';

/**
 * Three servers on one PostgreSQL database, as a deployment behind a load balancer runs them, each on
 * its own loopback socket: every per-address limit is one limit across them (design.md, issue 12 part 7).
 * Each case plays a different client address, forwarded by the load balancer (a trusted proxy).
 */
const url = process.env.DATABASE_URL;
const LIMIT = 8;
const REDIRECT = 'http://127.0.0.1:53682/callback';

describe('SEC-48 rate limits shared by three instances on one PostgreSQL database', { skip: url ? false : 'DATABASE_URL is not set' }, () => {
  const database = `portcullis_rl_${randomBytes(6).toString('hex')}`;
  const servers: NodeServer[] = [];
  let clientId = '';

  const admin = async (query: string): Promise<void> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(query);
    } finally {
      await client.end();
    }
  };
  /** A request to instance `i % 3` from `address`, as the load balancer forwards it. */
  const send = (i: number, address: string, path: string | URL, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.set('X-Forwarded-For', address);
    return fetch(new URL(path, servers[i % 3]!.config.issuer), { ...init, headers, redirect: 'manual' });
  };
  const authorizeUrl = (i: number, state: string): URL =>
    authorizationRequestUrl(servers[i % 3]!.config.issuer, {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: createPkcePair().challenge,
      code_challenge_method: 'S256',
      state,
      resource: servers[i % 3]!.config.resource,
    });
  /** Sends `LIMIT + 3` requests round-robin: all within limit pass, every later one is refused on every instance. */
  async function roundRobin(request: (i: number) => Promise<Response>): Promise<{ statuses: number[]; retryAfter: number[] }> {
    const statuses: number[] = [];
    const retryAfter: number[] = [];
    for (let i = 0; i < LIMIT + 3; i++) {
      const response = await request(i);
      await response.body?.cancel();
      statuses.push(response.status);
      if (response.status === 429) retryAfter.push(Number(response.headers.get('Retry-After')));
    }
    return { statuses, retryAfter };
  }
  const assertSharedLimit = ({ statuses, retryAfter }: { statuses: number[]; retryAfter: number[] }, passed: number): void => {
    assert.deepEqual(statuses.slice(0, LIMIT), Array(LIMIT).fill(passed), `the first ${LIMIT}, over three instances, pass`);
    assert.deepEqual(statuses.slice(LIMIT), [429, 429, 429], 'then every instance refuses');
    assert.ok(retryAfter.every((s) => s >= 1 && s <= 60), `Retry-After ${retryAfter.join(', ')}`);
  };

  before(async () => {
    await admin(`create database ${database}`);
    const config = resolveConfig({
      host: '127.0.0.1',
      port: 0,
      database: url!.replace(/\/[^/?]*(\?|$)/, `/${database}$1`),
      keyEncryptionKey: randomBytes(32).toString('base64url'),
      trustedProxies: ['127.0.0.1'],
      authorizePerMinute: LIMIT,
      tokenPerMinute: LIMIT,
      registration: { enabled: true, perMinute: LIMIT },
    });
    // One after another: the first creates the schema, the signing key and the administrator.
    for (let i = 0; i < 3; i++) servers.push(await startNodeServer(config, { handleSignals: false, logger: createMemoryLogger() }));
    clientId = (await registerPublicClient(servers[0]!.portcullis.ctx.storage, { redirectUris: [REDIRECT] })).clientId;
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await admin(`drop database if exists ${database}`);
  });

  it('SEC-48 registration: the limit is counted once across the instances', async () => {
    const body = (i: number) => JSON.stringify({ ...PUBLIC_CLIENT, client_name: `Client ${i}` });
    const result = await roundRobin((i) => send(i, '198.51.100.1', '/register', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body(i) }));
    assertSharedLimit(result, 201);
    assert.equal((await send(0, '198.51.100.2', '/register', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body(99) })).status, 201, 'another address has its own limit');
  });

  it('SEC-48 HARD-2 authorize: the limit is counted once across the instances', async () => {
    const result = await roundRobin((i) => send(i, '198.51.100.3', authorizeUrl(i, `s${i}`)));
    assertSharedLimit(result, 303);
  });

  it('SEC-48 token: the limit is counted once across the instances, before anything is read', async () => {
    const form = () => new URLSearchParams({ grant_type: 'authorization_code', code: 'not-a-code', client_id: clientId, redirect_uri: REDIRECT, code_verifier: 'v'.repeat(43) });
    const result = await roundRobin((i) => send(i, '198.51.100.4', '/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form() }));
    assertSharedLimit(result, 400);
    const refused = await send(0, '198.51.100.4', '/token', { method: 'POST', body: 'not even a form' });
    assert.equal(refused.status, 429);
    assert.deepEqual(await refused.json(), { error: 'rate_limited', error_description: 'Too many requests. Try again later.' });
    assert.match(refused.headers.get('Cache-Control') ?? '', /no-store/);
  });

  it('SEC-48 login: failed sign-ins on any instance lock the name on all of them (back-off in the store)', async () => {
    const outcomes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const attempt = authorizeWithForms({
        fetch: (input, init = {}) => send(i, '198.51.100.5', input, init),
        authorizationUrl: authorizeUrl(i, `login${i}`),
        username: 'admin',
        password: 'wrong password',
      });
      const error = await attempt.then(() => null, (e: unknown) => e);
      assert.ok(error instanceof FlowError, String(error));
      outcomes.push(error.status);
    }
    // Four free failures, the fifth locks the name (identity/login-backoff.ts); the sixth is refused unchecked.
    assert.deepEqual(outcomes, [400, 400, 400, 400, 400, 429]);
  });
});
