import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authenticateClient, CLIENT_AUTH_BACKOFF } from '../../src/authorization/clients/authenticate.ts';
import { CLIENT_JWKS } from '../../src/authorization/clients/client-keys.ts';
import { CLIENT_METADATA_DOCUMENT, fetchClientMetadataDocument } from '../../src/authorization/clients/metadata-document.ts';
import { parseForm } from '../../src/authorization/form.ts';
import { OAuthError } from '../../src/errors/oauth-error.ts';
import { CLIENT_FETCH_POLICY, ClientFetches } from '../../src/http/client-fetches.ts';
import { lockMs } from '../../src/util/failure-backoff.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { clientDocument, startDocumentServer, type DocumentServer } from '../cimd/document-server.ts';
import { ASSERTION_TYPE, clientAssertion, keyPair, postForm, storeClient, type KeyPair } from './helpers.ts';

/**
 * HARD-1: every URL fetched on a client's behalf (its `jwks_uri`, a CIMD document) goes through one
 * policy, so that nobody can make this server send requests on demand: single flight, failures held,
 * a cap on fetches in flight, and a back-off on failed client assertions. Documents are served by a
 * real server on 127.0.0.1 that counts its requests (hence `dangerouslyAllowPrivateNetworkFetches`).
 */
let docs: DocumentServer;
let real: KeyPair;
let attacker: KeyPair;
before(async () => {
  docs = await startDocumentServer();
  real = await keyPair('ES256', 'real-key');
  attacker = await keyPair('ES256', 'attacker-key');
});
after(() => docs.close());

const localApp = () => createTestApp({ dangerouslyAllowPrivateNetworkFetches: true }, { fetch: globalThis.fetch });

const assertionPost = async (t: TestApp, clientId: string, key: KeyPair) =>
  postForm(t, '/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(t, clientId, { key }) });

async function errorOf(res: Response): Promise<{ status: number; error: string; description: string }> {
  const body = (await res.json()) as { error: string; error_description: string };
  return { status: res.status, error: body.error, description: body.error_description };
}

let paths = 0;
/** A fresh path on the document server, so no test sees another's counts. */
const freshPath = (name: string) => `/${++paths}/${name}`;

describe('HARD-1 / SEC-29: junk assertions cannot make the server fetch a jwks_uri on demand', () => {
  it('HARD-1 100 junk assertions naming a client whose jwks_uri fails: one fetch; invalid_client, then 429 once the client is locked', async () => {
    const t = await localApp();
    try {
      const path = freshPath('jwks.json');
      const c = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: docs.serve(path, () => ({ status: 404, body: { error: 'no' } })) });
      for (let i = 0; i < 100; i++) {
        const answer = await errorOf(await assertionPost(t, c.client.clientId, attacker));
        const locked = i > CLIENT_AUTH_BACKOFF.freeFailures;
        assert.deepEqual([answer.status, answer.error], locked ? [429, 'rate_limited'] : [401, 'invalid_client'], `answer ${i}`);
      }
      assert.equal(docs.hits(path), 1);
    } finally {
      await t.close();
    }
  });

  it('HARD-1 100 concurrent junk assertions (unknown kid) at a working jwks_uri: one fetch', async () => {
    const t = await localApp();
    try {
      const path = freshPath('jwks.json');
      const c = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: docs.serve(path, () => ({ body: { keys: [real.publicJwk] }, delayMs: 20 })) });
      const answers = await Promise.all(Array.from({ length: 100 }, () => assertionPost(t, c.client.clientId, attacker)));
      assert.deepEqual([...new Set(answers.map((a) => a.status))], [401]);
      assert.equal(docs.hits(path), 1);
    } finally {
      await t.close();
    }
  });

  it('HARD-1 single flight: concurrent first uses of a jwks_uri share one fetch, and all authenticate', async () => {
    const t = await localApp();
    try {
      const path = freshPath('jwks.json');
      const c = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: docs.serve(path, () => ({ body: { keys: [real.publicJwk] }, delayMs: 50 })) });
      const answers = await Promise.all(Array.from({ length: 10 }, () => assertionPost(t, c.client.clientId, real)));
      assert.deepEqual(answers.map((a) => a.status), Array(10).fill(200));
      assert.equal(docs.hits(path), 1);
    } finally {
      await t.close();
    }
  });

  it('HARD-1 a failing jwks_uri is not fetched again within the failure hold; after it, it is, and the client authenticates', async () => {
    const t = await localApp();
    try {
      const path = freshPath('jwks.json');
      const url = docs.serve(path, () => ({ status: 500, body: {} }));
      const c = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: url });
      assert.equal((await assertionPost(t, c.client.clientId, real)).status, 401);
      docs.serve(path, () => ({ body: { keys: [real.publicJwk] } }));
      t.clock.advance(CLIENT_FETCH_POLICY.failureHoldMs - 1);
      assert.equal((await assertionPost(t, c.client.clientId, real)).status, 401, 'the failure is still held');
      assert.equal(docs.hits(path), 1);
      t.clock.advance(1);
      assert.equal((await assertionPost(t, c.client.clientId, real)).status, 200);
      assert.equal(docs.hits(path), 2);
    } finally {
      await t.close();
    }
  });

  it('HARD-1 a failed kid-miss refresh keeps the keys the client had, and is not retried within the cooldown', async () => {
    const t = await localApp();
    try {
      const path = freshPath('jwks.json');
      const c = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: docs.serve(path, () => ({ body: { keys: [real.publicJwk] } })) });
      assert.equal((await assertionPost(t, c.client.clientId, real)).status, 200);
      docs.serve(path, () => ({ status: 503, body: {} }));
      t.clock.advance(CLIENT_FETCH_POLICY.refetchCooldownMs);
      assert.equal((await assertionPost(t, c.client.clientId, attacker)).status, 401, 'unknown kid: one refresh, which fails');
      assert.equal(docs.hits(path), 2);
      assert.equal((await assertionPost(t, c.client.clientId, attacker)).status, 401);
      assert.equal(docs.hits(path), 2, 'no second refresh within the cooldown');
      assert.equal((await assertionPost(t, c.client.clientId, real)).status, 200, 'the known key still works');
    } finally {
      await t.close();
    }
  });
});

describe('HARD-1: one cap on fetches in flight, for jwks_uri and CIMD together', () => {
  it('HARD-1 / AS-13 beyond the cap a jwks_uri client and a CIMD client are refused at once (503, Retry-After), nothing fetched; below it, fetches resume', async () => {
    const fetched: string[] = [];
    const stalled: (() => void)[] = [];
    let slow = true;
    const gone = () => new Response('{}', { status: 404, headers: { 'content-type': 'application/json' } });
    // The internet, played by an injected fetch: while `slow`, every host hangs until released.
    const slowInternet = ((input: string | URL | Request, init?: RequestInit) => {
      fetched.push(String(input instanceof Request ? input.url : input));
      if (!slow) return Promise.resolve(gone());
      return new Promise<Response>((resolve, reject) => {
        stalled.push(() => resolve(gone()));
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    }) as typeof fetch;
    const t = await createTestApp({}, { fetch: slowInternet });
    try {
      // Each on a host of its own, so the global cap, not the per-host one, is what refuses.
      const jwksClient = async (n: number) => (await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `https://93.184.${Math.floor(n / 250)}.${(n % 250) + 1}/${n}/jwks.json` })).client.clientId;
      const hanging = [];
      for (let n = 0; n < CLIENT_FETCH_POLICY.maxInFlight; n++) hanging.push(assertionPost(t, await jwksClient(n), real));
      for (let i = 0; i < 200 && fetched.length < CLIENT_FETCH_POLICY.maxInFlight; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(fetched.length, CLIENT_FETCH_POLICY.maxInFlight);

      const over = await assertionPost(t, await jwksClient(1000), real);
      assert.equal(over.status, 503);
      assert.ok(Number(over.headers.get('Retry-After')) >= 1);
      assert.equal((await errorOf(over)).error, 'temporarily_unavailable');
      const cimd = await postForm(t, '/token', { grant_type: 'authorization_code', client_id: 'https://93.184.200.1/app/client.json', code: 'x', code_verifier: 'y'.repeat(43) });
      assert.equal(cimd.status, 503, 'the cap is shared by every kind of client URL');
      assert.equal(fetched.length, CLIENT_FETCH_POLICY.maxInFlight, 'nothing fetched beyond the cap');

      slow = false;
      for (const release of stalled) release();
      for (const answer of await Promise.all(hanging)) assert.equal(answer.status, 401);
      assert.equal((await assertionPost(t, await jwksClient(1001), real)).status, 401);
      assert.equal(fetched.at(-1), 'https://93.184.4.2/1001/jwks.json', 'with the fetches done, new ones are made again');
    } finally {
      slow = false;
      for (const release of stalled) release();
      await t.close();
    }
  });

  it('HARD-1 one host gets at most maxInFlightPerHost fetches at once: a slow host cannot take every slot', async () => {
    const stalled: (() => void)[] = [];
    let fetchedCount = 0;
    const slowHost = ((_input: string | URL | Request, init?: RequestInit) => {
      fetchedCount++;
      return new Promise<Response>((resolve, reject) => {
        stalled.push(() => resolve(new Response('{}', { status: 404, headers: { 'content-type': 'application/json' } })));
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    }) as typeof fetch;
    const t = await createTestApp({}, { fetch: slowHost });
    try {
      const jwksClient = async (n: number) => (await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `https://93.184.216.34/${n}/jwks.json` })).client.clientId;
      const hanging = [];
      for (let n = 0; n < CLIENT_FETCH_POLICY.maxInFlightPerHost; n++) hanging.push(assertionPost(t, await jwksClient(n), real));
      for (let i = 0; i < 200 && fetchedCount < CLIENT_FETCH_POLICY.maxInFlightPerHost; i++) await new Promise((r) => setTimeout(r, 5));
      const over = await assertionPost(t, await jwksClient(99), real);
      assert.equal(over.status, 503, 'a third URL on the same host waits for nothing: refused');
      assert.equal(fetchedCount, CLIENT_FETCH_POLICY.maxInFlightPerHost);
      for (const release of stalled) release();
      await Promise.all(hanging);
    } finally {
      await t.close();
    }
  });

  it('HARD-1 the cap counts URLs, not callers: callers of a URL being fetched join it, a new URL beyond the cap is refused without a request', async () => {
    const t = await localApp();
    try {
      const fetches = new ClientFetches(t.ctx, { maxInFlight: 2 });
      const a = docs.serve(freshPath('jwks.json'), () => ({ body: { keys: [real.publicJwk] }, delayMs: 50 }));
      const b = docs.serve(freshPath('jwks.json'), () => ({ body: { keys: [real.publicJwk] }, delayMs: 50 }));
      const cPath = freshPath('jwks.json');
      const c = docs.serve(cPath, () => ({ body: { keys: [real.publicJwk] } }));
      const pending = [fetches.get(CLIENT_JWKS, a), fetches.get(CLIENT_JWKS, b), fetches.get(CLIENT_JWKS, a), fetches.get(CLIENT_JWKS, b)];
      assert.equal(fetches.inFlight, 2);
      await assert.rejects(fetches.get(CLIENT_JWKS, c), (error: unknown) => error instanceof OAuthError && error.status === 503 && error.code === 'temporarily_unavailable');
      await Promise.all(pending);
      assert.equal(docs.hits(cPath), 0);
      assert.equal(fetches.inFlight, 0);
      await fetches.get(CLIENT_JWKS, c);
      assert.equal(docs.hits(cPath), 1);
    } finally {
      await t.close();
    }
  });

  it('HARD-1 the cache is bounded: past maxEntries the oldest answer is forgotten and fetched again', async () => {
    const t = await localApp();
    try {
      const fetches = new ClientFetches(t.ctx, { maxEntries: 2 });
      const urls = [1, 2, 3].map(() => freshPath('jwks.json'));
      for (const path of urls) await fetches.get(CLIENT_JWKS, docs.serve(path, () => ({ body: { keys: [real.publicJwk] } })));
      await fetches.get(CLIENT_JWKS, docs.origin + urls[2]);
      await fetches.get(CLIENT_JWKS, docs.origin + urls[0]);
      assert.deepEqual(urls.map((p) => docs.hits(p)), [2, 1, 1]);
    } finally {
      await t.close();
    }
  });
});

describe('HARD-1 / SEC-51: CIMD documents go through the same policy', () => {
  it('HARD-1 single flight: concurrent first uses of a CIMD client_id share one fetch', async () => {
    const t = await localApp();
    try {
      const path = freshPath('client.json');
      const url = docs.serve(path, (u) => ({ body: clientDocument(u), delayMs: 50 }));
      const clients = await Promise.all(Array.from({ length: 10 }, () => fetchClientMetadataDocument(t.ctx, url)));
      assert.ok(clients.every((c) => c.clientId === url));
      assert.equal(docs.hits(path), 1);
    } finally {
      await t.close();
    }
  });

  it('HARD-1 a failing CIMD URL is not fetched again within the failure hold, but is after it', async () => {
    const t = await localApp();
    try {
      const path = freshPath('client.json');
      const url = docs.serve(path, () => ({ status: 404, body: {} }));
      const request = () => postForm(t, '/token', { grant_type: 'authorization_code', client_id: url, code: 'x', code_verifier: 'y'.repeat(43) });
      for (let i = 0; i < 100; i++) assert.equal((await request()).status, 400);
      assert.equal(docs.hits(path), 1, '100 requests, one fetch');
      t.clock.advance(CLIENT_FETCH_POLICY.failureHoldMs);
      await request();
      assert.equal(docs.hits(path), 2);
    } finally {
      await t.close();
    }
  });

  it('HARD-1 a document kind and a key-set kind of the same URL are cached apart', async () => {
    const t = await localApp();
    try {
      const fetches = new ClientFetches(t.ctx);
      const path = freshPath('both.json');
      const url = docs.serve(path, (u) => ({ body: { ...clientDocument(u), keys: [real.publicJwk] } }));
      assert.equal((await fetches.get(CLIENT_METADATA_DOCUMENT, url)).clientId, url);
      assert.equal(typeof (await fetches.get(CLIENT_JWKS, url)), 'function');
      assert.equal(docs.hits(path), 2);
    } finally {
      await t.close();
    }
  });
});

describe('HARD-1 / SEC-28 / RFC 6749 §5.2: failed client assertions back off', () => {
  it('HARD-1 after the free failures a client is locked: refused as 429 with Retry-After, without a fetch; a correct assertion works once the lock ends', async () => {
    const t = await localApp();
    try {
      const path = freshPath('jwks.json');
      const c = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: docs.serve(path, () => ({ body: { keys: [real.publicJwk] } })) });
      // Junk until a failure locks the client for longer than the kid-miss cooldown, sitting out each shorter lock.
      let count = 0;
      do {
        const answer = await errorOf(await assertionPost(t, c.client.clientId, attacker));
        assert.deepEqual([answer.status, answer.description], [401, 'Client authentication failed.'], 'not locked yet');
        count++;
        t.clock.advance(lockMs(CLIENT_AUTH_BACKOFF, count) > CLIENT_FETCH_POLICY.refetchCooldownMs ? 0 : lockMs(CLIENT_AUTH_BACKOFF, count));
      } while (lockMs(CLIENT_AUTH_BACKOFF, count) <= CLIENT_FETCH_POLICY.refetchCooldownMs);
      assert.equal(count, CLIENT_AUTH_BACKOFF.freeFailures + 6);

      const locked = await assertionPost(t, c.client.clientId, real);
      assert.equal(locked.status, 429, 'even the right key is refused while locked: nothing is verified');
      assert.equal(locked.headers.get('Retry-After'), String(lockMs(CLIENT_AUTH_BACKOFF, count) / 1000));
      const body = await errorOf(locked);
      assert.equal(body.error, 'rate_limited');
      assert.match(body.description, /Too many failed client authentications/);
      // Past the cooldown a verified junk assertion would refetch the keys (unknown kid); a locked one costs nothing.
      const hits = docs.hits(path);
      t.clock.advance(CLIENT_FETCH_POLICY.refetchCooldownMs);
      for (let i = 0; i < 100; i++) assert.equal((await assertionPost(t, c.client.clientId, attacker)).status, 429);
      assert.equal(docs.hits(path), hits, 'a locked client costs no fetch');

      t.clock.advance(lockMs(CLIENT_AUTH_BACKOFF, count) - CLIENT_FETCH_POLICY.refetchCooldownMs);
      assert.equal((await assertionPost(t, c.client.clientId, real)).status, 200, 'released: the right key works again');
      const after = await errorOf(await assertionPost(t, c.client.clientId, attacker));
      assert.equal(after.description, 'Client authentication failed.', 'success cleared the count: one more failure is not locked');
    } finally {
      await t.close();
    }
  });

  it('HARD-1 failures from one address lock that address for every client it names, in the shared store', async () => {
    const t = await localApp();
    try {
      const one = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [real.publicJwk] } });
      const two = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [real.publicJwk] } });
      const authenticate = async (clientId: string, key: KeyPair) => {
        const form = parseForm(new URLSearchParams({ client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(t, clientId, { key }) }).toString());
        return authenticateClient(t.ctx, new Request('http://localhost:3000/token', { method: 'POST' }), form, { methods: ['private_key_jwt'], address: '203.0.113.9' });
      };
      // Spread over two clients so neither client's own count locks.
      for (let i = 0; i <= CLIENT_AUTH_BACKOFF.freeFailures; i++) {
        await assert.rejects(authenticate(i % 2 ? one.client.clientId : two.client.clientId, attacker), (e: unknown) => e instanceof OAuthError && e.description === 'Client authentication failed.');
      }
      assert.ok((await t.storage.failures.get('client-auth:address:203.0.113.9', t.clock.now())).lockedUntil > t.clock.now(), 'the lock is in the store');
      await assert.rejects(authenticate(one.client.clientId, real), (e: unknown) => e instanceof OAuthError && e.status === 429 && /Too many/.test(e.description));
      t.clock.advance(CLIENT_AUTH_BACKOFF.firstLockMs);
      assert.equal((await authenticate(one.client.clientId, real)).client.clientId, one.client.clientId);
    } finally {
      await t.close();
    }
  });

  it('HARD-1 a flood from one address does not lock the client for its other addresses: the client is counted per address', async () => {
    const t = await localApp();
    try {
      const c = await storeClient(t, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [real.publicJwk] } });
      const authenticate = async (address: string, key: KeyPair) => {
        const form = parseForm(new URLSearchParams({ client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(t, c.client.clientId, { key }) }).toString());
        return authenticateClient(t.ctx, new Request('http://localhost:3000/token', { method: 'POST' }), form, { methods: ['private_key_jwt'], address });
      };
      for (let i = 0; i <= CLIENT_AUTH_BACKOFF.freeFailures; i++) await assert.rejects(authenticate('203.0.113.66', attacker));
      await assert.rejects(authenticate('203.0.113.66', real), (e: unknown) => e instanceof OAuthError && e.status === 429, 'the flooding address is locked');
      assert.equal((await authenticate('198.51.100.7', real)).client.clientId, c.client.clientId, 'the client itself, from elsewhere, is not');
    } finally {
      await t.close();
    }
  });
});
