/**
 * Set-ups for the upstream-login tests: Portcullis in-process (http://localhost:3000) with its login
 * step delegated to a real OpenID Connect provider on 127.0.0.1 (panva's oidc-provider) or to the
 * Stytch OAuth-login fixture, an MCP client registered at Portcullis, and scripted browsers that
 * click through our consent page and the provider's login page.
 */
import assert from 'node:assert/strict';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { ClientRecord } from '../../src/storage/types.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../helpers/app.ts';
import {
  authorizationRequestUrl,
  browserFetch,
  cookieJar,
  createPkcePair,
  formData,
  inProcessFetch,
  parseForms,
  registerPublicClient,
  type CookieJar,
  type FetchLike,
} from '../helpers/oauth-flow.ts';
import { signInAtProvider, startOidcProvider, type OidcProviderFixture, type OidcProviderFixtureOptions } from '../fixtures/oidc-provider.ts';
import { createStytchOAuthLoginFixture, type StytchOAuthLoginFixture } from '../fixtures/stytch/oauth-login.ts';
import { createStytchProject } from '../fixtures/stytch/project.ts';

export const MCP_REDIRECT = 'http://127.0.0.1:8765/callback';
export const RP_CLIENT_ID = 'portcullis-gateway';
export const RP_CLIENT_SECRET = 'rp-secret-3f9a1c7e5b2d4a6c8e0f1a3b5c7d9e1f';
export const OTHER_CLIENT_ID = 'another-app';
export const OTHER_CLIENT_SECRET = 'other-secret-0a2b4c6d8e1f3a5b7c9d1e3f5a7b9c1d';
export const OTHER_REDIRECT = 'http://127.0.0.1:9999/other/callback';

export const ACCOUNTS = [
  { sub: 'alice-0001', email: 'alice@example.com', email_verified: true, name: 'Alice' },
  { sub: 'bob-0002', email: 'bob@example.com', email_verified: true, name: 'Bob' },
  { sub: 'mallory-0003', email: 'mallory@example.com', email_verified: true, name: 'Mallory' },
  { sub: 'victim-0004', email: 'victim@example.com', email_verified: true, name: 'Victim' },
];

/** A browser: one cookie jar; our server in-process, every other origin through `elsewhere`. */
export function makeBrowser(app: TestApp, elsewhere: FetchLike, jar: CookieJar = cookieJar()) {
  const local = inProcessFetch(app.app);
  const route: FetchLike = (input, init) => (isOurs(app, new URL(input)) ? local(input, init) : elsewhere(input, init));
  return { jar, send: browserFetch(route, jar) };
}

/** Our server: the test origin requests are made to, and the configured public URL (they differ in https tests). */
export const isOurs = (app: TestApp, url: URL): boolean => url.origin === app.origin || url.origin === app.ctx.config.issuer;
export type Browser = ReturnType<typeof makeBrowser>;

export interface UpstreamSetup {
  app: TestApp;
  client: ClientRecord;
  pkce: ReturnType<typeof createPkcePair>;
  /** Our /authorize URL for the MCP client, with overrides (`undefined` removes a parameter). */
  url(overrides?: Record<string, string | undefined>): URL;
  browser(jar?: CookieJar): Browser;
  /** Signs in at the upstream provider from `upstreamUrl` and returns the URL it sends the browser back to. */
  loginUpstream(browser: Browser, upstreamUrl: URL, login: string): Promise<URL>;
}

export interface OidcSetup extends UpstreamSetup {
  idp: OidcProviderFixture;
  close(): Promise<void>;
}

/**
 * oidc-provider with two confidential clients (Portcullis, and another app of the same provider),
 * and Portcullis configured with `identityProvider.kind = oidc`. `fetch` wraps Portcullis's outbound
 * calls (to tamper with what the provider sends, as a network attacker or a buggy provider would).
 */
export async function oidcSetup(
  options: { config?: ConfigInput; fetch?: (real: typeof fetch) => typeof fetch; idTokenTtlSeconds?: number; idp?: Pick<OidcProviderFixtureOptions, 'accounts' | 'scopes' | 'configure'>; oidcScopes?: string[] } = {},
): Promise<OidcSetup> {
  const idp = await startOidcProvider({
    accounts: ACCOUNTS,
    ...options.idp,
    clients: [
      { client_id: RP_CLIENT_ID, client_secret: RP_CLIENT_SECRET, redirect_uris: [`${TEST_ORIGIN}/callback`], grant_types: ['authorization_code'], response_types: ['code'] },
      { client_id: OTHER_CLIENT_ID, client_secret: OTHER_CLIENT_SECRET, redirect_uris: [OTHER_REDIRECT], grant_types: ['authorization_code'], response_types: ['code'] },
    ],
    ...(options.idTokenTtlSeconds ? { idTokenTtlSeconds: options.idTokenTtlSeconds } : {}),
  });
  const outbound = options.fetch ? options.fetch(globalThis.fetch) : globalThis.fetch;
  const app = await createTestApp(
    { identityProvider: { kind: 'oidc', displayName: 'Example SSO', oidc: { issuer: idp.issuer, clientId: RP_CLIENT_ID, clientSecret: RP_CLIENT_SECRET, ...(options.oidcScopes ? { scopes: options.oidcScopes } : {}) } }, ...options.config },
    { fetch: outbound },
  );
  const base = await common(app, globalThis.fetch, (browser, url, login) => signInAtProvider(browser.send, url, { login }));
  return { ...base, idp, close: () => idp.close() };
}

export interface StytchSetup extends UpstreamSetup {
  stytch: StytchOAuthLoginFixture;
}

/** The Stytch OAuth-login fixture (answering any host in-process) and Portcullis with `kind = stytch`. */
export async function stytchSetup(
  options: { env?: 'test' | 'live'; stytch?: NonNullable<ConfigInput['identityProvider']>['stytch']; fetch?: (fixture: typeof fetch) => typeof fetch } = {},
): Promise<StytchSetup> {
  const project = createStytchProject('https://project.customers.stytch.dev', options.env ?? 'test');
  const stytch = await createStytchOAuthLoginFixture({ project, clock: new ManualClock(Date.now()), redirectUrls: [`${TEST_ORIGIN}/callback?tx={}`] });
  const app = await createTestApp(
    { identityProvider: { kind: 'stytch', stytch: { projectId: project.projectId, secret: project.secret, publicToken: stytch.publicToken, ...options.stytch } } },
    { fetch: options.fetch ? options.fetch(stytch.fetch) : stytch.fetch },
  );
  const base = await common(app, stytch.fetch, async (browser, url, login) => {
    // The OAuth provider's page (the fixture's "Google"): one e-mail field.
    let current = url;
    for (let step = 0; step < 6; step++) {
      const response = await browser.send(current);
      const location = response.headers.get('Location');
      if (location) {
        const next = new URL(location, current);
        if (isOurs(app, next)) return next;
        current = next;
        continue;
      }
      const html = await response.text();
      const form = parseForms(html, current)[0];
      assert.ok(form, `a form at ${current.pathname} (${response.status}): ${html.slice(0, 200)}`);
      const submitted = await browser.send(form.action, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: formData(form, { email: login }).toString() });
      current = new URL(submitted.headers.get('Location') ?? '', form.action);
      if (isOurs(app, current)) return current;
    }
    throw new Error('the Stytch login did not come back');
  });
  return { ...base, stytch };
}

async function common(app: TestApp, elsewhere: FetchLike, login: UpstreamSetup['loginUpstream']): Promise<UpstreamSetup> {
  const client = await registerPublicClient(app.storage, { redirectUris: [MCP_REDIRECT], clientName: 'Claude Desktop' });
  const pkce = createPkcePair();
  const url = (overrides: Record<string, string | undefined> = {}) =>
    authorizationRequestUrl(app.origin, {
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: MCP_REDIRECT,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      state: 'client-state-1',
      scope: 'tasks:read',
      resource: app.ctx.config.resource,
      ...overrides,
    });
  return { app, client, pkce, url, browser: (jar) => makeBrowser(app, elsewhere, jar), loginUpstream: login };
}

/** Follows our own redirects from `url` to the first page (a 200 with a form) or an off-site redirect. */
export async function openOnServer(browser: Browser, app: TestApp, url: URL): Promise<{ response: Response; url: URL; html: string; leftTo: URL | null }> {
  let current = url;
  for (let step = 0; step < 8; step++) {
    const response = await browser.send(current);
    const location = response.headers.get('Location');
    if (location) {
      const next = new URL(location, current);
      if (!isOurs(app, next)) return { response, url: current, html: '', leftTo: next };
      current = next;
      continue;
    }
    return { response, url: current, html: await response.text(), leftTo: null };
  }
  throw new Error('too many redirects');
}

/**
 * Opens our /authorize, presses `decision` on our consent page (shown before any upstream login),
 * and returns where the browser is sent: the provider (allow) or the client (deny, errors).
 */
export async function consentAndLeave(setup: UpstreamSetup, browser: Browser, url: URL, decision: 'allow' | 'deny' = 'allow'): Promise<{ consentHtml: string; response: Response; to: URL }> {
  const page = await openOnServer(browser, setup.app, url);
  assert.equal(page.leftTo, null, `expected our consent page, was sent to ${page.leftTo?.href}`);
  assert.equal(page.url.pathname, '/consent', `expected the consent page, got ${page.response.status} at ${page.url.pathname}`);
  const form = parseForms(page.html, page.url)[0];
  assert.ok(form, 'the consent page has a form');
  const response = await browser.send(form.action, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: formData(form, {}, (b) => b.value === decision).toString(),
  });
  const location = response.headers.get('Location');
  assert.ok(location, `the consent decision redirects (got ${response.status})`);
  return { consentHtml: page.html, response, to: new URL(location, page.url) };
}

/** Delivers the provider's redirect to our /callback and returns our answer. */
export async function deliverCallback(browser: Browser, callback: URL): Promise<Response> {
  return browser.send(callback);
}

/** The whole login: consent, upstream login as `login`, callback; the client's redirect URL with the code. */
export async function fullLogin(setup: UpstreamSetup, browser: Browser, login: string, url = setup.url()): Promise<URL> {
  const { to } = await consentAndLeave(setup, browser, url);
  const back = await setup.loginUpstream(browser, to, login);
  const answer = await deliverCallback(browser, back);
  assert.equal(answer.status, 303, `the callback redirects to the client (got ${answer.status}: ${answer.status === 303 ? '' : await answer.text()})`);
  return new URL(answer.headers.get('Location')!);
}

/** Redeems a code at our token endpoint as the MCP client. */
export async function redeem(setup: UpstreamSetup, code: string, overrides: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await setup.app.request('/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: setup.pkce.verifier, redirect_uri: MCP_REDIRECT, client_id: setup.client.clientId, ...overrides }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

/** The `sub` of an access token (no verification: the MCP endpoint does that). */
export function tokenSubject(accessToken: string): string {
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string };
  return payload.sub;
}

/** Calls our MCP endpoint with a bearer token (an `initialize`). */
export function callMcp(app: TestApp, token: string): Promise<Response> {
  return app.request('/mcp', {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } } }),
  });
}
