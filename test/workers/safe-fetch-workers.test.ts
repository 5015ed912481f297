import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeFetchJson, SafeFetchError } from '../../src/http/safe-fetch.ts';

/**
 * The Workers path of the client-URL fetch policy, in Node: no name is resolved and nothing is
 * pinned (the platform's fetch does both, with no private network behind it), every other rule holds.
 */
const onWorkers = (fetch: typeof globalThis.fetch) => ({ config: { dangerouslyAllowPrivateNetworkFetches: false } as never, fetch, runtime: 'workers' as const });
const refusingLookup = async (): Promise<never> => {
  throw new Error('no name may be resolved on Workers');
};

describe('BP-08 client URL fetches on Workers', () => {
  it('a host name goes to the platform fetch as it is: not resolved here, no dispatcher, redirects not followed', async () => {
    const seen: { url: string; init: RequestInit | undefined }[] = [];
    const fetch = (async (url: string, init?: RequestInit) => {
      seen.push({ url, init });
      return Response.json({ client_id: url });
    }) as typeof globalThis.fetch;
    const result = await safeFetchJson(onWorkers(fetch), 'https://app.example/client.json', { lookup: refusingLookup });
    assert.deepEqual(result.value, { client_id: 'https://app.example/client.json' });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.init?.redirect, 'manual');
    assert.ok(!('dispatcher' in (seen[0]!.init ?? {})), 'nothing to pin on Workers');
  });

  it('an address in the URL is still checked, and plain http still refused, before anything is fetched', async () => {
    let fetched = 0;
    const fetch = (async () => (fetched++, Response.json({}))) as typeof globalThis.fetch;
    for (const url of ['https://10.0.0.1/x.json', 'https://[::1]/x.json', 'https://169.254.169.254/latest', 'http://app.example/x.json']) {
      await assert.rejects(safeFetchJson(onWorkers(fetch), url, { lookup: refusingLookup }), (e: unknown) => e instanceof SafeFetchError, url);
    }
    assert.equal(fetched, 0);
  });

  it('the size and redirect rules are the same as on Node', async () => {
    const big = (async () => new Response(JSON.stringify({ pad: 'x'.repeat(6000) }), { headers: { 'content-type': 'application/json' } })) as typeof globalThis.fetch;
    await assert.rejects(safeFetchJson(onWorkers(big), 'https://app.example/big.json'), /larger than 5120 bytes/);
    const redirecting = (async () => new Response(null, { status: 302, headers: { location: 'https://10.0.0.1/x' } })) as typeof globalThis.fetch;
    await assert.rejects(safeFetchJson(onWorkers(redirecting), 'https://app.example/doc'), /redirects elsewhere/);
  });
});
