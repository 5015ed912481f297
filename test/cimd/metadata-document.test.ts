import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CLIENT_FETCH_POLICY } from '../../src/http/client-fetches.ts';
import { createUser } from '../../src/identity/users.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { authorizationRequestUrl, authorizeWithForms, createPkcePair, decodeEntities, inProcessFetch, pageMessage } from '../helpers/oauth-flow.ts';
import { clientDocument, startDocumentServer, type DocumentServer } from './document-server.ts';

/**
 * Client ID metadata documents end to end, in process: the documents are served from 127.0.0.1 by a
 * real server (so `dangerouslyAllowPrivateNetworkFetches` is on, and the fetch is Node's own), and the
 * authorization runs through the real login and consent forms with real PKCE.
 */
const USER = { username: 'alice', password: 'correct horse battery staple' };
const REDIRECT = 'http://127.0.0.1:8765/callback';

let docs: DocumentServer;
before(async () => {
  docs = await startDocumentServer();
});
after(() => docs.close());

async function cimdApp(config: Parameters<typeof createTestApp>[0] = {}): Promise<TestApp> {
  const app = await createTestApp({ dangerouslyAllowPrivateNetworkFetches: true, ...config }, { fetch: globalThis.fetch });
  await createUser(app.storage, USER, { now: app.clock.now(), random: app.ctx.random });
  return app;
}

function requestUrl(app: TestApp, clientId: string, pkce = createPkcePair(), overrides: Record<string, string> = {}): URL {
  return authorizationRequestUrl(app.origin, {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    state: 'st-1',
    scope: 'tasks:read',
    resource: app.ctx.config.resource,
    ...overrides,
  });
}

/** Opens /authorize; a refused client gets our error page (400), never a redirect (SEC-06). */
async function refusal(app: TestApp, url: URL): Promise<string> {
  const response = await app.request(url.pathname + url.search);
  const html = await response.text();
  assert.equal(response.status, 400, `expected the error page, got ${response.status}: ${pageMessage(html)}`);
  assert.equal(response.headers.get('Location'), null, 'never redirected to an unverified redirect URI');
  // The page's text: its title and the message under it.
  return decodeEntities(html.replace(/<[^>]+>/g, ' '));
}

async function token(app: TestApp, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await app.request('/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('AS-07: client_id_metadata_document_supported in the authorization server metadata', () => {
  it('is advertised when enabled (the default) and absent when switched off', async () => {
    const on = await createTestApp();
    assert.equal((await (await on.request('/.well-known/oauth-authorization-server')).json()).client_id_metadata_document_supported, true);
    const off = await createTestApp({ clientIdMetadataDocuments: { enabled: false } });
    const metadata = await (await off.request('/.well-known/oauth-authorization-server')).json();
    assert.equal('client_id_metadata_document_supported' in metadata, false);
    assert.ok(metadata.registration_endpoint, 'dynamic registration stays available alongside CIMD');
  });

  it('switched off, a URL client_id is just an unknown client and nothing is fetched', async () => {
    const app = await cimdApp({ clientIdMetadataDocuments: { enabled: false } });
    const url = docs.serve('/off/client.json', (u) => ({ body: clientDocument(u) }));
    assert.match(await refusal(app, requestUrl(app, url)), /not registered/);
    assert.equal(docs.hits('/off/client.json'), 0);
  });
});

describe('AS-08 / AS-11 / CL-09: a client identified by its metadata document authorizes and gets tokens', () => {
  it('fetches the document, signs in and consents, exchanges the code with client_id alone, and refresh tokens rotate (BP-11 the loopback warning and redirect host are shown for a CIMD client)', async () => {
    const app = await cimdApp();
    const clientId = docs.serve('/happy/client.json', (u) => ({ body: clientDocument(u), headers: { 'cache-control': 'max-age=600' } }));
    const pkce = createPkcePair();
    let consentHtml = '';
    const callback = await authorizeWithForms({
      fetch: inProcessFetch(app.app),
      authorizationUrl: requestUrl(app, clientId, pkce),
      ...USER,
      onPage: (page) => {
        if (page.url.pathname === '/consent') consentHtml = page.html;
      },
    });
    assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT);
    assert.equal(callback.searchParams.get('state'), 'st-1');
    assert.match(consentHtml, /Notes Cloud/, 'the consent page names the client from its document');
    assert.match(consentHtml, /<code id="redirect-host">http:\/\/127\.0\.0\.1:8765<\/code>/, 'AS-17: the redirect host is shown');
    assert.match(consentHtml, /notice-warn/, 'AS-15: a loopback-only client gets the warning');

    const code = callback.searchParams.get('code')!;
    const issued = await token(app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.verifier, client_id: clientId, resource: app.ctx.config.resource });
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    assert.equal(typeof issued.body.access_token, 'string');
    const refresh = issued.body.refresh_token as string;
    assert.ok(refresh);

    const refreshed = await token(app, { grant_type: 'refresh_token', refresh_token: refresh, client_id: clientId });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.notEqual(refreshed.body.refresh_token, refresh, 'rotated');
    assert.equal(docs.hits('/happy/client.json'), 1, 'one fetch served the whole flow (cached)');
  });

  it('SEC-30: the document says `none`, so a secret presented for it is refused', async () => {
    const app = await cimdApp();
    const clientId = docs.serve('/public/client.json', (u) => ({ body: clientDocument(u) }));
    const result = await token(app, { grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId, client_secret: 'guess' });
    assert.equal(result.status, 401);
    assert.equal(result.body.error, 'invalid_client');
  });
});

describe('AS-09 / AS-11 / AS-12 / SEC-30 / SEC-51: documents that cannot be used are refused on the error page', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await cimdApp();
  });

  const cases: [string, string, (url: string) => import('./document-server.ts').Route, RegExp][] = [
    ['AS-09: client_id differs from the URL (trailing slash)', '/mismatch/client.json', (u) => ({ body: clientDocument(u + '/') }), /client_id must be exactly the URL/],
    ['AS-09: client_id differs only in case', '/case/client.json', (u) => ({ body: clientDocument(u.replace('/case/', '/CASE/')) }), /client_id must be exactly the URL/],
    ['AS-12: client_name missing', '/noname/client.json', (u) => ({ body: clientDocument(u, { client_name: undefined }) }), /client_name is required/],
    ['AS-12: redirect_uris missing', '/noredirects/client.json', (u) => ({ body: clientDocument(u, { redirect_uris: undefined }) }), /redirect_uris is required/],
    ['AS-12: not a JSON object', '/array/client.json', () => ({ body: [1, 2] }), /must be a JSON object/],
    ['AS-12: not JSON at all', '/broken/client.json', () => ({ body: '{"client_id": ' }), /not valid JSON/],
    ['SEC-51: served as HTML', '/html/client.json', (u) => ({ body: JSON.stringify(clientDocument(u)), headers: { 'content-type': 'text/html' } }), /not JSON/],
    ['SEC-30: client_secret_post in the document', '/secretpost/client.json', (u) => ({ body: clientDocument(u, { token_endpoint_auth_method: 'client_secret_post' }) }), /must be none or private_key_jwt/],
    ['SEC-30: a client_secret in the document', '/secret/client.json', (u) => ({ body: clientDocument(u, { client_secret: 's3cret' }) }), /must not contain a client_secret/],
    ['AS-22: a plain-http non-loopback redirect URI', '/badredirect/client.json', (u) => ({ body: clientDocument(u, { redirect_uris: ['http://evil.example/cb'] }) }), /http redirect URIs are allowed only on localhost/],
    ['SEC-51: larger than 5 KB', '/large/client.json', (u) => ({ body: clientDocument(u, { client_uri: 'https://a.example/' + 'x'.repeat(6000) }) }), /larger than 5120 bytes/],
    ['SEC-51: the fetch fails (404)', '/missing.json', () => ({ status: 404, body: { error: 'nope' } }), /HTTP 404/],
    ['private_key_jwt without keys', '/nokeys/client.json', (u) => ({ body: clientDocument(u, { token_endpoint_auth_method: 'private_key_jwt' }) }), /needs jwks or jwks_uri/],
  ];
  for (const [name, path, route, message] of cases) {
    it(name, async () => {
      const clientId = docs.serve(path, route);
      assert.match(await refusal(app, requestUrl(app, clientId)), message);
    });
  }

  it('AS-11: a redirect_uri the document does not list', async () => {
    const clientId = docs.serve('/other-redirect/client.json', (u) => ({ body: clientDocument(u) }));
    const message = await refusal(app, requestUrl(app, clientId, undefined, { redirect_uri: 'https://attacker.example/cb' }));
    assert.match(message, /not one this application registered/);
  });

  it('SEC-51: a document that takes longer than 5 s is refused', { timeout: 15_000 }, async () => {
    const clientId = docs.serve('/slow/client.json', (u) => ({ body: clientDocument(u), delayMs: 7_000 }));
    const started = Date.now();
    assert.match(await refusal(app, requestUrl(app, clientId)), /took too long/);
    assert.ok(Date.now() - started < 6_500, 'gave up at the time limit');
  });

  for (const [name, clientId, message] of [
    ['SEC-51: a fragment', () => `${docs.origin}/c.json#x`, /fragment/],
    ['SEC-51: a dot segment', () => `${docs.origin}/a/../c.json`, /\. or \.\. path segments/],
    ['SEC-51: an encoded dot segment', () => `${docs.origin}/a/%2e%2e/c.json`, /\. or \.\. path segments/],
    ['SEC-51: a username and password', () => docs.origin.replace('://', '://u:p@') + '/c.json', /username or password/],
    ['SEC-51: no path', () => `${docs.origin}/`, /must have a path/],
  ] as const) {
    it(`client_id URL with ${name.slice(8)} is refused before any fetch (${name.slice(0, 6)})`, async () => {
      assert.match(await refusal(app, requestUrl(app, clientId())), message);
    });
  }

  it('a refusal is logged with its reason, for the operator', async () => {
    const clientId = docs.serve('/logged/client.json', () => ({ status: 500 }));
    await refusal(app, requestUrl(app, clientId));
    const record = app.logger.records().find((r) => r.msg === 'client metadata document refused');
    assert.ok(record, app.logger.lines.join('\n'));
    assert.equal(record.client_id, clientId);
    assert.match(String(record.reason), /HTTP 500/);
  });
});

describe('SEC-51: SSRF defence on the real path (no private-network setting)', () => {
  it('a document URL that redirects to a private address is refused without following it (AS-13 the CIMD security considerations: SSRF)', async () => {
    const fetched: string[] = [];
    const fakeInternet = (async (input: string | URL | Request) => {
      const url = String(input instanceof Request ? input.url : input);
      fetched.push(url);
      return new Response(null, { status: 302, headers: { location: 'https://10.0.0.1/admin' } });
    }) as typeof fetch;
    // A public IP literal as the host: the check needs no DNS, and the injected fetch plays the internet.
    const app = await createTestApp({}, { fetch: fakeInternet });
    const message = await refusal(app, requestUrl(app, 'https://93.184.216.34/client.json'));
    assert.match(message, /must be served at its own URL/);
    assert.deepEqual(fetched, ['https://93.184.216.34/client.json']);
  });

  it('a client_id on a loopback or private address is refused without a fetch; http is not a document URL', async () => {
    const fetched: string[] = [];
    const app = await createTestApp({}, { fetch: (async (input: string) => (fetched.push(String(input)), new Response('{}'))) as typeof fetch });
    assert.match(await refusal(app, requestUrl(app, 'https://127.0.0.1:8443/client.json')), /not on the public internet/);
    assert.match(await refusal(app, requestUrl(app, 'https://[::ffff:192.168.0.1]/client.json')), /not on the public internet/);
    assert.match(await refusal(app, requestUrl(app, 'http://93.184.216.34/client.json')), /not registered/);
    assert.deepEqual(fetched, []);
  });
});

describe('AS-10 / SEC-51: documents are cached per their HTTP caching headers, errors only delay the next attempt', () => {
  it('a second authorization within max-age does not refetch; one after it does', async () => {
    const app = await cimdApp();
    const path = '/cached/client.json';
    const clientId = docs.serve(path, (u) => ({ body: clientDocument(u), headers: { 'cache-control': 'public, max-age=600' } }));
    await authorizeWithForms({ fetch: inProcessFetch(app.app), authorizationUrl: requestUrl(app, clientId), ...USER });
    assert.equal(docs.hits(path), 1);
    app.clock.advance(599_000);
    await authorizeWithForms({ fetch: inProcessFetch(app.app), authorizationUrl: requestUrl(app, clientId), ...USER });
    assert.equal(docs.hits(path), 1, 'still fresh');
    app.clock.advance(2_000);
    await authorizeWithForms({ fetch: inProcessFetch(app.app), authorizationUrl: requestUrl(app, clientId), ...USER });
    assert.equal(docs.hits(path), 2, 'refetched after max-age');
  });

  it('SEC-51 / HARD-1 a failed fetch is never kept as the client: held for the failure hold (no refetch), then fetched again and accepted', async () => {
    const app = await cimdApp();
    const path = '/flaky/client.json';
    const clientId = docs.serve(path, () => ({ status: 503, body: { error: 'busy' } }));
    await refusal(app, requestUrl(app, clientId));
    docs.serve(path, (u) => ({ body: clientDocument(u) }));
    app.clock.advance(CLIENT_FETCH_POLICY.failureHoldMs - 1);
    await refusal(app, requestUrl(app, clientId));
    assert.equal(docs.hits(path), 1, 'not refetched within the hold');
    app.clock.advance(1);
    const callback = await authorizeWithForms({ fetch: inProcessFetch(app.app), authorizationUrl: requestUrl(app, clientId), ...USER });
    assert.ok(callback.searchParams.get('code'));
    assert.equal(docs.hits(path), 2);
  });

  it('SEC-51 / HARD-1 an invalid document is not cached either: fixed, it is accepted once the failure hold is over', async () => {
    const app = await cimdApp();
    const path = '/fixed/client.json';
    const clientId = docs.serve(path, (u) => ({ body: clientDocument(u, { client_name: '' }), headers: { 'cache-control': 'max-age=3600' } }));
    await refusal(app, requestUrl(app, clientId));
    docs.serve(path, (u) => ({ body: clientDocument(u) }));
    app.clock.advance(CLIENT_FETCH_POLICY.failureHoldMs);
    assert.ok((await authorizeWithForms({ fetch: inProcessFetch(app.app), authorizationUrl: requestUrl(app, clientId), ...USER })).searchParams.get('code'));
  });
});

describe('AS-18: the trust policy', () => {
  it('with allowedHosts, a document on another host is refused without a fetch', async () => {
    const app = await cimdApp({ clientIdMetadataDocuments: { enabled: true, allowedHosts: ['clients.example.com'] } });
    const clientId = docs.serve('/policy/client.json', (u) => ({ body: clientDocument(u) }));
    assert.match(await refusal(app, requestUrl(app, clientId)), /only from clients\.example\.com/);
    assert.equal(docs.hits('/policy/client.json'), 0);
  });

  it('AS-09 / AS-18: an open redirect on an allowed host cannot serve a document from elsewhere under that host\'s client_id', async () => {
    const app = await cimdApp({ clientIdMetadataDocuments: { enabled: true, allowedHosts: ['127.0.0.1'] } });
    // The attacker's document claims the trusted URL as its client_id, the only thing AS-09 can compare.
    const trusted = `${docs.origin}/open-redirect/client.json`;
    docs.serve('/attacker/client.json', () => ({ body: clientDocument(trusted, { client_name: 'Trusted App' }) }));
    docs.serve('/open-redirect/client.json', () => ({ status: 302, headers: { location: `${docs.origin}/attacker/client.json` } }));
    assert.match(await refusal(app, requestUrl(app, trusted)), /must be served at its own URL/);
    assert.equal(docs.hits('/attacker/client.json'), 0, 'the redirect is not followed');
  });

  it('with the document host on the list, it is accepted', async () => {
    const app = await cimdApp({ clientIdMetadataDocuments: { enabled: true, allowedHosts: ['127.0.0.1'] } });
    const clientId = docs.serve('/allowed/client.json', (u) => ({ body: clientDocument(u) }));
    assert.ok((await authorizeWithForms({ fetch: inProcessFetch(app.app), authorizationUrl: requestUrl(app, clientId), ...USER })).searchParams.get('code'));
  });
});

describe('AS-13 / SEC-51: at most CLIENT_FETCH_POLICY.maxInFlight document fetches at once (no amplification)', () => {
  it('beyond the cap, /authorize shows a 503 page and /token answers temporarily_unavailable, without fetching; below it again, fetches resume', async () => {
    const fetched: string[] = [];
    const stalled: (() => void)[] = [];
    let slow = true;
    const notFound = () => new Response(JSON.stringify({ error: 'gone' }), { status: 404, headers: { 'content-type': 'application/json' } });
    // The internet, played by an injected fetch: while `slow`, every document host hangs until released.
    const slowInternet = ((input: string | URL | Request, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      fetched.push(url);
      if (!slow) return Promise.resolve(notFound());
      return new Promise<Response>((resolve, reject) => {
        stalled.push(() => resolve(notFound()));
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    }) as typeof fetch;
    const app = await createTestApp({}, { fetch: slowInternet });
    // Public IP literals: no DNS lookup; each a fresh URL on a host of its own (past the per-host cap), as an attacker would send.
    const victim = (n: number) => `https://93.184.${Math.floor(n / 250)}.${(n % 250) + 1}/${n}/client.json`;

    const hanging = Array.from({ length: CLIENT_FETCH_POLICY.maxInFlight }, (_, n) => {
      const url = requestUrl(app, victim(n));
      return app.request(url.pathname + url.search);
    });
    for (let i = 0; i < 200 && fetched.length < CLIENT_FETCH_POLICY.maxInFlight; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(fetched.length, CLIENT_FETCH_POLICY.maxInFlight);

    const over = requestUrl(app, victim(1000));
    const page = await app.request(over.pathname + over.search);
    assert.equal(page.status, 503);
    assert.ok(page.headers.get('Retry-After'));
    assert.match(decodeEntities(await page.text()), /busy fetching other applications' metadata documents/);
    const tokenAnswer = await token(app, { grant_type: 'authorization_code', client_id: victim(1001), code: 'x', code_verifier: 'y'.repeat(43) });
    assert.equal(tokenAnswer.status, 503);
    assert.equal(tokenAnswer.body.error, 'temporarily_unavailable');
    assert.equal(fetched.length, CLIENT_FETCH_POLICY.maxInFlight, 'nothing fetched beyond the cap');

    slow = false;
    for (const release of stalled) release();
    for (const response of await Promise.all(hanging)) assert.equal(response.status, 400, 'the released fetches end in the usual refusal');
    await refusal(app, requestUrl(app, victim(1002)));
    assert.equal(fetched.at(-1), victim(1002), 'with the fetches done, new documents are fetched again');
  });
});
