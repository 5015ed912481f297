/** Shared set-up for the /authorize, login and consent tests: an app, a user, a client, a request URL. */
import type { ConfigInput } from '../../src/config/schema.ts';
import { createUser } from '../../src/identity/users.ts';
import type { ClientRecord } from '../../src/storage/types.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
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
  type HtmlForm,
  type TestClientOptions,
} from '../helpers/oauth-flow.ts';

export const USERNAME = 'alice';
export const PASSWORD = 'correct horse battery staple';
export const REDIRECT = 'http://127.0.0.1:8765/callback';

export interface Fixture {
  app: TestApp;
  client: ClientRecord;
  pkce: ReturnType<typeof createPkcePair>;
  fetch: ReturnType<typeof inProcessFetch>;
  /** A valid authorization request URL, with `overrides` applied (`undefined` removes a parameter). */
  url(overrides?: Record<string, string | undefined>): URL;
}

export async function setup(options: { config?: ConfigInput; client?: Partial<TestClientOptions> } = {}): Promise<Fixture> {
  const app = await createTestApp(options.config);
  await createUser(app.storage, { username: USERNAME, password: PASSWORD }, { now: app.clock.now(), random: app.ctx.random });
  const client = await registerPublicClient(app.storage, { redirectUris: [REDIRECT], clientName: 'Notes Desktop', ...options.client });
  const pkce = createPkcePair();
  const url = (overrides: Record<string, string | undefined> = {}) =>
    authorizationRequestUrl(app.origin, {
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: client.redirectUris[0],
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      state: 'xyz-state',
      scope: 'tasks:read',
      resource: app.ctx.config.resource,
      ...overrides,
    });
  return { app, client, pkce, fetch: inProcessFetch(app.app), url };
}

/** Parses a Location header (absolute or relative to the test origin). */
export function location(response: Response, origin = 'http://localhost:3000'): URL {
  const value = response.headers.get('Location');
  if (!value) throw new Error(`no Location on a ${response.status}`);
  return new URL(value, origin);
}

export interface Page {
  response: Response;
  url: URL;
  html: string;
  form: HtmlForm | undefined;
}

/**
 * A scripted browser over the in-process app: a cookie jar, manual redirects, and form submission, for
 * tests that need to stop between the steps `authorizeWithForms` runs in one go. `env` is passed to
 * the app as the Node adapter would (e.g. a socket address for per-address back-off).
 */
export function testBrowser(f: Fixture, options: { jar?: CookieJar; env?: unknown } = {}) {
  const jar = options.jar ?? cookieJar();
  const send = browserFetch(options.env === undefined ? f.fetch : inProcessFetch(f.app.app, options.env), jar);
  const read = async (response: Response, url: URL): Promise<Page> => {
    const html = await response.text();
    return { response, url, html, form: parseForms(html, url)[0] };
  };
  return {
    jar,
    send,
    /** GET `url` and follow redirects while they stay on the server; the last response as a page. */
    async open(url: URL | string): Promise<Page> {
      let current = new URL(url);
      for (;;) {
        const response = await send(current);
        const next = response.headers.get('Location');
        if (!next || new URL(next, current).origin !== f.app.origin) return read(response, current);
        current = new URL(next, current);
      }
    },
    /** Submits a form as a browser would (see `formData`); does not follow the redirect. */
    submit(form: HtmlForm, fill: Record<string, string> = {}, press?: (b: HtmlForm['buttons'][number]) => boolean): Promise<Response> {
      return send(form.action, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: formData(form, fill, press).toString() });
    },
    post(url: URL | string, data: Record<string, string>): Promise<Response> {
      return send(new URL(url, f.app.origin), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(data).toString() });
    },
    read,
  };
}

export type TestBrowser = ReturnType<typeof testBrowser>;

/** Opens the authorization URL and signs in; returns the response to the login POST (a 303). */
export async function signIn(browser: TestBrowser, url: URL, credentials: { username?: string; password?: string } = {}): Promise<Response> {
  const login = await browser.open(url);
  if (!login.form) throw new Error(`expected the login page, got ${login.response.status} at ${login.url.href}`);
  return browser.submit(login.form, { username: credentials.username ?? USERNAME, password: credentials.password ?? PASSWORD });
}

/** Signs in (if needed) and returns the consent page. */
export async function openConsent(browser: TestBrowser, url: URL): Promise<Page> {
  const first = await browser.open(url);
  if (first.form?.inputs.some((i) => i.type === 'password')) {
    const afterLogin = await browser.submit(first.form, { username: USERNAME, password: PASSWORD });
    return browser.open(location(afterLogin));
  }
  return first;
}

export const pressAllow = (b: HtmlForm['buttons'][number]): boolean => b.value === 'allow';
export const pressDeny = (b: HtmlForm['buttons'][number]): boolean => b.value === 'deny';
