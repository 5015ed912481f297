/**
 * Drives the browser part of an OAuth authorization flow without a browser: follows redirects by hand
 * with a cookie jar, and fills in and submits whatever HTML form each page shows, as a person would
 * (username and password on the login page, Allow or Deny on the consent page). It knows the pages
 * only through their forms, so it keeps working when their markup changes.
 *
 * Works in-process (`inProcessFetch(app)`) and over real sockets (`globalThis.fetch`).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ClientRecord, Storage } from '../../src/storage/types.ts';
import { clientRecord } from './records.ts';

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** A fetch that calls a web-standard app in-process. `env` is what a runtime adapter would pass (e.g. the Node socket). */
export function inProcessFetch(app: { fetch(request: Request, env?: unknown): Response | Promise<Response> }, env?: unknown): FetchLike {
  return async (input, init) => app.fetch(new Request(input, init), env);
}

// ---------------------------------------------------------------------------------------------------
// Cookies

/** A minimal cookie jar: by host name like a browser (ports share cookies), honouring Max-Age=0. */
export class CookieJar {
  readonly #byHost = new Map<string, Map<string, string>>();

  store(url: URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const jar = this.#byHost.get(url.hostname) ?? new Map<string, string>();
      this.#byHost.set(url.hostname, jar);
      const expired = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
  }

  get(url: URL | string, name: string): string | undefined {
    return this.#byHost.get(new URL(url).hostname)?.get(name);
  }

  set(url: URL | string, name: string, value: string): void {
    const host = new URL(url).hostname;
    const jar = this.#byHost.get(host) ?? new Map<string, string>();
    jar.set(name, value);
    this.#byHost.set(host, jar);
  }

  /** The Cookie header to send to `url`, or undefined when there is nothing to send. */
  header(url: URL | string): string | undefined {
    const jar = this.#byHost.get(new URL(url).hostname);
    if (!jar || jar.size === 0) return undefined;
    return [...jar].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

export const cookieJar = (): CookieJar => new CookieJar();

/** A fetch that sends and stores cookies and never follows redirects itself. */
export function browserFetch(fetch: FetchLike, jar: CookieJar): FetchLike {
  return async (input, init = {}) => {
    const url = new URL(input);
    const headers = new Headers(init.headers);
    const cookie = jar.header(url);
    if (cookie) headers.set('Cookie', cookie);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    jar.store(url, response);
    return response;
  };
}

// ---------------------------------------------------------------------------------------------------
// HTML forms

export interface HtmlForm {
  action: URL;
  method: string;
  /** Every named <input> with its value, in document order (hidden fields included). */
  inputs: Array<{ name: string; type: string; value: string; autocomplete: string }>;
  buttons: Array<{ name: string | undefined; value: string; text: string }>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] === '#') {
      const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    const name = m[1]?.toLowerCase();
    if (name) out.set(name, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

const stripTags = (html: string): string => decodeEntities(html.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();

/** The forms of a page, with their inputs and submit buttons. */
export function parseForms(html: string, pageUrl: URL): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(m[1] ?? '');
    const body = m[2] ?? '';
    const inputs: HtmlForm['inputs'] = [];
    for (const input of body.matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributes(input[1] ?? '');
      const name = a.get('name');
      if (name) inputs.push({ name, type: (a.get('type') ?? 'text').toLowerCase(), value: a.get('value') ?? '', autocomplete: a.get('autocomplete') ?? '' });
    }
    const buttons: HtmlForm['buttons'] = [];
    for (const button of body.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)) {
      const a = attributes(button[1] ?? '');
      if ((a.get('type') ?? 'submit').toLowerCase() !== 'submit') continue;
      buttons.push({ name: a.get('name'), value: a.get('value') ?? '', text: stripTags(button[2] ?? '') });
    }
    forms.push({ action: new URL(attrs.get('action') ?? pageUrl.href, pageUrl), method: (attrs.get('method') ?? 'get').toUpperCase(), inputs, buttons });
  }
  return forms;
}

/** What a page says: its alert (error notice) if it has one, else its main heading. */
export function pageMessage(html: string): string {
  const alert = /<[^>]+role="alert"[^>]*>([\s\S]*?)<\/div>/i.exec(html);
  if (alert) return stripTags(alert[1] ?? '');
  const h1 = /<h1\b[^>]*>([\s\S]*?)<\/h1>/i.exec(html);
  return h1 ? stripTags(h1[1] ?? '') : stripTags(html).slice(0, 200);
}

/**
 * The form data a browser would send: every input's value, with `fill` overriding by name (or by type
 * `password`), plus the name and value of the pressed button when it has a name.
 */
export function formData(form: HtmlForm, fill: Record<string, string>, press?: (button: HtmlForm['buttons'][number]) => boolean): URLSearchParams {
  const data = new URLSearchParams();
  for (const input of form.inputs) {
    if (input.type === 'submit' || input.type === 'button') continue;
    data.append(input.name, fill[input.name] ?? input.value);
  }
  const button = press ? form.buttons.find(press) : form.buttons[0];
  if (press && !button) throw new Error(`the form has no such button (buttons: ${form.buttons.map((b) => b.text).join(', ')})`);
  if (button?.name) data.append(button.name, button.value);
  return data;
}

// ---------------------------------------------------------------------------------------------------
// The flow

/** A page the flow could not get past: an error page, a refused login. */
export class FlowError extends Error {
  readonly status: number;
  readonly url: URL;
  readonly html: string;
  constructor(message: string, page: { status: number; url: URL; html: string }) {
    super(message);
    this.name = 'FlowError';
    this.status = page.status;
    this.url = page.url;
    this.html = page.html;
  }
}

export interface AuthorizeWithFormsOptions {
  fetch: FetchLike;
  authorizationUrl: string | URL;
  username: string;
  password: string;
  /** What to press on the consent page. Default: allow. */
  decision?: 'allow' | 'deny';
  /** Reuse a jar to keep the browser signed in between flows. */
  jar?: CookieJar;
  /** Seen for every page shown (login, consent), e.g. to assert on it. */
  onPage?: (page: { url: URL; status: number; html: string; form: HtmlForm }) => void;
  maxSteps?: number;
}

/**
 * Opens `authorizationUrl`, signs in and decides on the consent page as a person would, and returns
 * the URL the server finally sends the browser to outside its own origin: the client's redirect URI
 * with `code`, `state`, `iss` (or `error`). Throws FlowError on a page it cannot get past.
 */
export async function authorizeWithForms(options: AuthorizeWithFormsOptions): Promise<URL> {
  const jar = options.jar ?? cookieJar();
  const send = browserFetch(options.fetch, jar);
  let url = new URL(options.authorizationUrl);
  const server = url.origin;
  let init: RequestInit = { method: 'GET' };
  let submittedPassword = false;

  for (let step = 0; step < (options.maxSteps ?? 12); step++) {
    const response = await send(url, init);
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('Location');
      if (!location) throw new FlowError(`${response.status} without a Location`, { status: response.status, url, html: '' });
      await response.body?.cancel();
      const next = new URL(location, url);
      if (next.origin !== server) return next;
      url = next;
      init = { method: 'GET' };
      continue;
    }
    const html = await response.text();
    const page = { status: response.status, url, html };
    const [form] = parseForms(html, url);
    if (response.status >= 400 || !form) throw new FlowError(`${response.status} at ${url.pathname}: ${pageMessage(html)}`, page);
    options.onPage?.({ ...page, form });

    const isLogin = form.inputs.some((i) => i.type === 'password');
    if (isLogin && submittedPassword) throw new FlowError(`login refused: ${pageMessage(html)}`, page);
    const username = form.inputs.find((i) => i.autocomplete === 'username' || i.name === 'username')?.name ?? 'username';
    const password = form.inputs.find((i) => i.type === 'password')?.name ?? 'password';
    const decision = options.decision ?? 'allow';
    const data = isLogin
      ? formData(form, { [username]: options.username, [password]: options.password })
      : formData(form, {}, form.buttons.some((b) => b.name) ? (b) => b.value === decision : undefined);
    submittedPassword ||= isLogin;

    url = form.action;
    init = form.method === 'POST'
      ? { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: data.toString() }
      : { method: 'GET' };
    if (form.method !== 'POST') url.search = data.toString();
  }
  throw new Error(`authorization flow did not finish within ${options.maxSteps ?? 12} steps (last at ${url.href})`);
}

// ---------------------------------------------------------------------------------------------------
// Clients, PKCE, URLs

/** A PKCE pair computed independently of the server's code (RFC 7636 §4.1–4.2, S256). */
export function createPkcePair(): { verifier: string; challenge: string; method: 'S256' } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier, 'ascii').digest('base64url'), method: 'S256' };
}

export interface TestClientOptions {
  redirectUris: string[];
  clientName?: string;
  clientId?: string;
  scope?: string | null;
  /** `cli` (an administrator's client, the default) or `dcr` (registered by the client itself). */
  source?: ClientRecord['source'];
  grantTypes?: string[];
  clientUri?: string | null;
  logoUri?: string | null;
}

/** Registers a public client (`token_endpoint_auth_method: none`) straight into storage. */
export async function registerPublicClient(storage: Storage, options: TestClientOptions): Promise<ClientRecord> {
  const allLoopbackOrNative = options.redirectUris.every((u) => !u.startsWith('https:'));
  const client = clientRecord({
    clientId: options.clientId ?? 'client_' + randomBytes(12).toString('base64url'),
    clientName: options.clientName ?? 'Test Client',
    redirectUris: options.redirectUris,
    grantTypes: options.grantTypes ?? ['authorization_code', 'refresh_token'],
    applicationType: allLoopbackOrNative ? 'native' : 'web',
    scope: options.scope ?? null,
    clientUri: options.clientUri ?? null,
    logoUri: options.logoUri ?? null,
    source: options.source ?? 'cli',
  });
  await storage.clients.create(client);
  return client;
}

/** An authorization request URL; `undefined` values are left out. */
export function authorizationRequestUrl(origin: string, params: Record<string, string | undefined>): URL {
  const url = new URL('/authorize', origin);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  return url;
}
