import { createUser } from '../../../src/identity/users.ts';
import { systemRandom } from '../../../src/util/crypto.ts';
import { createTestApp, type TestApp } from '../../helpers/app.ts';
import { authorizationRequestUrl, authorizeWithForms, browserFetch, cookieJar, createPkcePair, formData, inProcessFetch, parseForms, type CookieJar, type HtmlForm } from '../../helpers/oauth-flow.ts';
import { PASSWORD, REDIRECT, runFullFlow } from '../flow.ts';
import { openInspectableStorage, type InspectableStorage } from './storage-digest.ts';

/**
 * Everything real a fuzzed request can be built from: a valid request with one part mutated is the
 * interesting case. Single-use values (codes, tokens, pending requests, CSRF tokens) are used up by
 * the requests that succeed, so requests name them through `slot(name)` and `renew()` mints fresh
 * ones before each request; `fill()` puts the current values in.
 */
export interface FuzzFixture {
  app: TestApp;
  store: InspectableStorage;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Already exchanged (a replay), and its verifier. */
  usedCode: string;
  usedVerifier: string;
  /** From a grant since revoked. */
  revokedAccessToken: string;
  rotatedRefreshToken: string;
  /** The query of a valid authorization request. */
  authorizeQuery: Array<[string, string]>;
  /** Field names of the login and consent forms, in order. */
  loginFields: string[];
  consentFields: string[];
  /** Fixed real values, and the names of the live ones, for putting one in another's place. */
  values: string[];
  cookieNames: string[];
  /** Mints a fresh code, tokens, and login and consent pages ready to submit. */
  renew(): Promise<void>;
  /** The current value of every live slot. */
  live: Record<string, string>;
}

export const LIVE_SLOTS = ['code', 'verifier', 'accessToken', 'refreshToken', 'loginCookie', 'consentCookie'] as const;
const SLOT = /__live_([A-Za-z0-9.]+)__/g;

/** A placeholder for a live value; it survives form and URL encoding unchanged (only [A-Za-z0-9._] in it). */
export const slot = (name: string): string => `__live_${name}__`;

/** `text` with every slot replaced by its current value. */
export function fill(text: string, live: Record<string, string>): string {
  return text.replace(SLOT, (_, name: string) => live[name] ?? '');
}

class Stop extends Error {}

export async function createFuzzFixture(): Promise<FuzzFixture> {
  const store = await openInspectableStorage();
  // Real flows are rebuilt after every state change: far more /authorize calls a minute than one browser makes.
  const app = await createTestApp({ authorizePerMinute: 1_000_000, tokenPerMinute: 1_000_000 }, { storage: store.storage });
  const first = await runFullFlow(app);
  const fetch = inProcessFetch(app.app);
  await createUser(app.storage, { username: 'bob', password: PASSWORD }, { now: app.clock.now(), random: systemRandom });

  const authorizeParams = (challenge: string, extra: Record<string, string> = {}) => ({
    response_type: 'code',
    client_id: first.clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'tasks:read tasks:write',
    state: 'fuzz-state',
    resource: `${app.origin}/mcp`,
    ...extra,
  });

  /** Runs the browser part until `stopAt`'s page shows, and returns that form and the browser's cookies. */
  const pageOf = async (stopAt: 'login' | 'consent', jar: CookieJar, extra: Record<string, string> = {}): Promise<{ form: HtmlForm; cookie: string }> => {
    let page: { form: HtmlForm; cookie: string } | undefined;
    await authorizeWithForms({
      fetch,
      jar,
      authorizationUrl: authorizationRequestUrl(app.origin, authorizeParams(createPkcePair().challenge, extra)),
      username: 'bob',
      password: PASSWORD,
      onPage: ({ form, url }) => {
        if ((stopAt === 'login') === form.inputs.some((i) => i.type === 'password')) {
          page = { form, cookie: jar.header(url) ?? '' };
          throw new Stop();
        }
      },
    }).catch((error: unknown) => {
      if (!(error instanceof Stop)) throw error;
    });
    if (!page) throw new Error(`the fixture did not reach the ${stopAt} page`);
    return page;
  };

  // Alice's browser, signed in with consent remembered: a fresh code costs one redirect, no password.
  const alice = cookieJar();
  await authorizeWithForms({ fetch, jar: alice, authorizationUrl: authorizationRequestUrl(app.origin, authorizeParams(createPkcePair().challenge)), username: 'alice', password: PASSWORD });
  // Bob's browser, signed in once; prompt=consent shows him a consent page every time.
  const bob = cookieJar();
  await pageOf('consent', bob);

  const login = await pageOf('login', cookieJar());
  const consent = await pageOf('consent', bob, { prompt: 'consent' });
  const loginFields = login.form.inputs.map((i) => i.name);
  const consentFields = [...formData(consent.form, {}, consent.form.buttons.some((b) => b.name) ? (b) => b.value === 'allow' : undefined).keys()];

  const live: Record<string, string> = {};
  const renew = async (): Promise<void> => {
    const pkce = createPkcePair();
    const redirect = await browserFetch(fetch, alice)(authorizationRequestUrl(app.origin, authorizeParams(pkce.challenge)));
    const code = new URL(redirect.headers.get('Location') ?? '', app.origin).searchParams.get('code');
    if (!code) throw new Error(`no code for the fixture: ${redirect.status}`);
    const tokens = (await (
      await fetch(`${app.origin}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: pkce.verifier, redirect_uri: REDIRECT, client_id: first.clientId, client_secret: first.clientSecret }),
      })
    ).json()) as { access_token: string; refresh_token: string };
    // An unused code with its verifier, for the code exchange itself.
    const next = createPkcePair();
    const second = await browserFetch(fetch, alice)(authorizationRequestUrl(app.origin, authorizeParams(next.challenge)));
    Object.assign(live, {
      code: new URL(second.headers.get('Location') ?? '', app.origin).searchParams.get('code') ?? '',
      verifier: next.verifier,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
    });
    const loginPage = await pageOf('login', cookieJar());
    const consentPage = await pageOf('consent', bob, { prompt: 'consent' });
    live.loginCookie = loginPage.cookie;
    live.consentCookie = consentPage.cookie;
    for (const [name, value] of formData(loginPage.form, {}).entries()) live[`login.${name}`] = value;
    for (const [name, value] of formData(consentPage.form, {}, (b) => b.value === 'allow').entries()) live[`consent.${name}`] = value;
  };
  await renew();

  const cookieNames = [...new Set([live.loginCookie!, live.consentCookie!].flatMap((c) => c.split('; ').map((p) => p.split('=')[0] ?? '')).filter(Boolean))];
  const values = [first.clientId, first.clientSecret, REDIRECT, first.code, first.verifier, first.accessToken, first.refreshToken, ...LIVE_SLOTS.map(slot)];
  return {
    app,
    store,
    clientId: first.clientId,
    clientSecret: first.clientSecret,
    redirectUri: REDIRECT,
    usedCode: first.code,
    usedVerifier: first.verifier,
    revokedAccessToken: first.accessToken,
    rotatedRefreshToken: first.refreshToken,
    authorizeQuery: Object.entries(authorizeParams(createPkcePair().challenge)),
    loginFields,
    consentFields,
    values,
    cookieNames,
    renew,
    live,
  };
}

export { parseForms };
