import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { AppContext } from '../../src/context.ts';
import { isPublicAddress, safeFetchJson, SafeFetchError, vetFetchTarget, type HostLookup } from '../../src/http/safe-fetch.ts';

/** Just what the guard reads from the context: the private-network switch and the fetch to use. */
function context(fetch: typeof globalThis.fetch, allowPrivate = false): AppContext {
  return { config: { dangerouslyAllowPrivateNetworkFetches: allowPrivate }, fetch } as unknown as AppContext;
}

/** A fake resolver: host → addresses; records every lookup. */
function resolver(table: Record<string, string[]>): HostLookup & { asked: string[] } {
  const asked: string[] = [];
  const lookup = async (host: string) => {
    asked.push(host);
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { asked });
}

const json = (value: unknown, init: ResponseInit = {}) =>
  new Response(JSON.stringify(value), { ...init, headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });

const rejectsWith = (promise: Promise<unknown>, reason: RegExp) =>
  assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof SafeFetchError, `expected SafeFetchError, got ${String(e)}`);
    assert.match(e.reason, reason);
    return true;
  });

const PUBLIC_V4 = '93.184.216.34';

describe('BP-08 / AS-14: every non-public address range is refused (ipaddr.js)', () => {
  const blocked: [string, string][] = [
    ['127.0.0.1', 'IPv4 loopback'],
    ['127.255.0.9', 'IPv4 loopback /8'],
    ['10.1.2.3', 'RFC 1918 10/8'],
    ['172.16.0.1', 'RFC 1918 172.16/12'],
    ['172.31.255.254', 'RFC 1918 172.16/12 upper end'],
    ['192.168.1.1', 'RFC 1918 192.168/16'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'CGNAT 100.64/10'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'TEST-NET reserved'],
    ['198.18.0.1', 'benchmarking'],
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['fe80::1', 'IPv6 link-local'],
    ['fc00::1', 'unique-local fc00::/7'],
    ['fd12:3456::1', 'unique-local fd'],
    ['ff02::1', 'IPv6 multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex form'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'IPv4-mapped link-local'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['2002:7f00:1::', '6to4 of loopback'],
    ['::7f00:1', 'IPv4-compatible ::/96 (deprecated) of loopback'],
    ['::a00:1', 'IPv4-compatible ::/96 of a private address'],
    ['::808:808', 'IPv4-compatible ::/96 even of a public address'],
    ['not-an-ip', 'garbage'],
  ];
  for (const [address, label] of blocked) {
    it(`refuses ${address} (${label})`, () => assert.equal(isPublicAddress(address), false));
  }
  for (const address of [PUBLIC_V4, '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
    it(`accepts public ${address}`, () => assert.equal(isPublicAddress(address), true));
  }
});

describe('SEC-51: URL and DNS checks before any connection', () => {
  it('refuses a host whose DNS answer mixes a public and a private address', async () => {
    const lookup = resolver({ 'mixed.example': [PUBLIC_V4, '10.0.0.7'] });
    await rejectsWith(vetFetchTarget('https://mixed.example/client.json', { lookup, allowPrivate: false }), /non-public 10\.0\.0\.7/);
  });
  it('refuses a host that resolves to an IPv4-mapped loopback address', async () => {
    const lookup = resolver({ 'sneaky.example': ['::ffff:127.0.0.1'] });
    await rejectsWith(vetFetchTarget('https://sneaky.example/x', { lookup, allowPrivate: false }), /non-public/);
  });
  it('accepts a public host and pins the checked address', async () => {
    const lookup = resolver({ 'app.example': ['2606:4700:4700::1111', PUBLIC_V4] });
    const target = await vetFetchTarget('https://app.example/client.json', { lookup, allowPrivate: false });
    assert.equal(target.address, '2606:4700:4700::1111');
    assert.equal(target.family, 6);
  });
  it('judges IP-literal hosts (dotted, decimal, bracketed IPv6) without DNS', async () => {
    const lookup = resolver({});
    for (const url of ['https://127.0.0.1/x', 'https://2130706433/x', 'https://[::1]/x', 'https://[::ffff:a00:1]/x', 'https://[::127.0.0.1]/x', 'https://169.254.169.254/latest']) {
      await rejectsWith(vetFetchTarget(url, { lookup, allowPrivate: false }), /non-public/);
    }
    assert.deepEqual(lookup.asked, []);
  });
  it('refuses http, credentials and fragments; an unresolvable host is an error too', async () => {
    const lookup = resolver({ 'app.example': [PUBLIC_V4] });
    await rejectsWith(vetFetchTarget('http://app.example/x', { lookup, allowPrivate: false }), /scheme http:/);
    await rejectsWith(vetFetchTarget('file:///etc/passwd', { lookup, allowPrivate: false }), /scheme file:/);
    await rejectsWith(vetFetchTarget('https://user:pw@app.example/x', { lookup, allowPrivate: false }), /userinfo/);
    await rejectsWith(vetFetchTarget('https://app.example/x#frag', { lookup, allowPrivate: false }), /fragment/);
    await rejectsWith(vetFetchTarget('https://nowhere.example/x', { lookup, allowPrivate: false }), /lookup of nowhere\.example failed/);
  });
  it('dangerouslyAllowPrivateNetworkFetches lets loopback and http through (tests only)', async () => {
    const target = await vetFetchTarget('http://127.0.0.1:9/x', { allowPrivate: true });
    assert.equal(target.address, '127.0.0.1');
  });
});

describe('SEC-51: redirects, size, time and type limits', () => {
  const lookup = resolver({ 'app.example': [PUBLIC_V4], 'hop.example': [PUBLIC_V4], 'internal.example': ['192.168.0.10'] });

  it('AS-14: refuses any redirect unless the caller asks to follow them, without connecting to the target', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const urls: string[] = [];
      const fetch = (async (url: string) => {
        urls.push(url);
        return url.startsWith('https://app.example/') ? new Response(null, { status, headers: { location: 'https://hop.example/doc' } }) : json({ ok: true });
      }) as typeof globalThis.fetch;
      await rejectsWith(safeFetchJson(context(fetch), 'https://app.example/doc', { lookup }), new RegExp(`redirect ${status} from https://app\\.example/doc refused`));
      await rejectsWith(safeFetchJson(context(fetch), 'https://app.example/doc', { lookup, redirects: 'none' }), /refused/);
      assert.deepEqual(urls, ['https://app.example/doc', 'https://app.example/doc']);
    }
  });
  it('follows a redirect to a public host, re-checking it, with redirect: manual and a pinning dispatcher', async () => {
    const seen: { url: string; init: RequestInit & { dispatcher?: unknown } }[] = [];
    const fetch = (async (url: string, init: RequestInit) => {
      seen.push({ url, init });
      return url.startsWith('https://app.example/') ? new Response(null, { status: 302, headers: { location: 'https://hop.example/doc' } }) : json({ ok: true });
    }) as typeof globalThis.fetch;
    const result = await safeFetchJson(context(fetch), 'https://app.example/doc', { lookup, redirects: 'follow' });
    assert.deepEqual(result.value, { ok: true });
    assert.equal(result.url, 'https://hop.example/doc', 'the caller learns where the document really came from');
    assert.deepEqual(seen.map((s) => s.url), ['https://app.example/doc', 'https://hop.example/doc']);
    assert.ok(seen.every((s) => s.init.redirect === 'manual' && s.init.dispatcher !== undefined));
  });
  it('refuses a redirect to a private address before connecting to it', async () => {
    const urls: string[] = [];
    const fetch = (async (url: string) => {
      urls.push(url);
      return new Response(null, { status: 307, headers: { location: 'https://internal.example/admin' } });
    }) as typeof globalThis.fetch;
    await rejectsWith(safeFetchJson(context(fetch), 'https://app.example/doc', { lookup, redirects: 'follow' }), /internal\.example resolves to non-public 192\.168\.0\.10/);
    assert.deepEqual(urls, ['https://app.example/doc']);
  });
  it('refuses a redirect to an IP literal in a private range', async () => {
    const fetch = (async () => new Response(null, { status: 301, headers: { location: 'https://10.0.0.1/' } })) as typeof globalThis.fetch;
    await rejectsWith(safeFetchJson(context(fetch), 'https://app.example/doc', { lookup, redirects: 'follow' }), /non-public 10\.0\.0\.1/);
  });
  it('gives up after three redirects', async () => {
    let count = 0;
    const fetch = (async () => new Response(null, { status: 302, headers: { location: `https://app.example/${++count}` } })) as typeof globalThis.fetch;
    await rejectsWith(safeFetchJson(context(fetch), 'https://app.example/0', { lookup, redirects: 'follow' }), /too many redirects/);
    assert.equal(count, 4, 'the original request and three redirects');
  });
  it('refuses a body over the limit, declared or streamed', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(6000) });
    const declared = (async () => new Response(big, { headers: { 'content-type': 'application/json', 'content-length': String(big.length) } })) as typeof globalThis.fetch;
    await rejectsWith(safeFetchJson(context(declared), 'https://app.example/doc', { lookup }), /content-length 60/);
    const streamed = (async () =>
      new Response(new ReadableStream({ pull(c) { c.enqueue(new TextEncoder().encode(big.slice(0, 1000))); } }), { headers: { 'content-type': 'application/json' } })) as typeof globalThis.fetch;
    await rejectsWith(safeFetchJson(context(streamed), 'https://app.example/doc', { lookup }), /body over 5120 bytes/);
    const fine = (async () => json({ pad: 'x'.repeat(6000) })) as typeof globalThis.fetch;
    const result = await safeFetchJson(context(fine), 'https://app.example/doc', { lookup, maxBytes: 64 * 1024 });
    assert.equal((result.value as { pad: string }).pad.length, 6000, 'a larger limit (e.g. for JWKS) is honoured');
  });
  it('refuses a response that takes too long', async () => {
    const stalled = ((_url: string, init: RequestInit) =>
      new Promise<Response>((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)))) as typeof globalThis.fetch;
    await rejectsWith(safeFetchJson(context(stalled), 'https://app.example/doc', { lookup, timeoutMs: 50 }), /timeout/);
  });
  it('refuses non-JSON content, invalid JSON and error statuses', async () => {
    const html = (async () => new Response('<html>', { headers: { 'content-type': 'text/html' } })) as typeof globalThis.fetch;
    await rejectsWith(safeFetchJson(context(html), 'https://app.example/doc', { lookup }), /content-type text\/html/);
    const broken = (async () => new Response('{"a":', { headers: { 'content-type': 'application/json' } })) as typeof globalThis.fetch;
    await rejectsWith(safeFetchJson(context(broken), 'https://app.example/doc', { lookup }), /unparseable JSON/);
    const missing = (async () => json({ error: 'nope' }, { status: 404 })) as typeof globalThis.fetch;
    await rejectsWith(safeFetchJson(context(missing), 'https://app.example/doc', { lookup }), /HTTP 404/);
  });
  it('the public message never names the resolved internal address', async () => {
    const fetch = (async () => new Response(null, { status: 302, headers: { location: 'https://internal.example/' } })) as typeof globalThis.fetch;
    const error = await safeFetchJson(context(fetch), 'https://app.example/doc', { lookup, redirects: 'follow' }).catch((e: unknown) => e as SafeFetchError);
    assert.ok(error instanceof SafeFetchError);
    assert.doesNotMatch(error.message, /192\.168/);
  });
});

describe('DNS rebinding: with Node\'s fetch the socket goes to the address that was checked', () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ host: req.headers.host }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('connects to the vetted 127.0.0.1 for a name the system resolver does not know', async () => {
    // `rebind.invalid` can never resolve (RFC 2606): reaching the server proves no second lookup happened.
    const lookup = resolver({ 'rebind.invalid': ['127.0.0.1'] });
    const result = await safeFetchJson(context(globalThis.fetch, true), `http://rebind.invalid:${port}/doc`, { lookup });
    assert.deepEqual(result.value, { host: `rebind.invalid:${port}` });
    assert.deepEqual(lookup.asked, ['rebind.invalid']);
  });
});
