/**
 * The full OAuth + MCP flow as an MCP client and its user's browser perform it, timed end to end:
 * authorization request → code → token → MCP `initialize` (+ `notifications/initialized`) →
 * `tools/call`. The remembered flow is the everyday reconnect (signed in, consent remembered: the
 * authorization endpoint answers with the code at once); the first-time flow adds the login page
 * (scrypt) and the consent page, driven through the real HTML forms.
 */
import { randomBytes } from 'node:crypto';
import { authorizeWithForms, cookieJar, createPkcePair, type CookieJar } from '../../test/helpers/oauth-flow.ts';
import { BENCH_PASSWORD, REDIRECT_URI, SCOPES, type BenchUser } from './fixture.ts';
import { header, type HttpClient } from './http-client.ts';
import { callWhoami, closeSession, openSession } from './mcp.ts';

export interface FlowTarget {
  /** Where to connect: `http://127.0.0.1:<port>`. */
  origin: string;
  /** The server's issuer (`http://localhost:<port>`): what its URLs and redirects name. */
  issuer: string;
  /** The MCP resource (`aud` of its tokens). */
  resource: string;
}

function authorizationQuery(target: FlowTarget, clientId: string, challenge: string, state: string): string {
  return new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    scope: SCOPES.join(' '),
    resource: target.resource,
  }).toString();
}

/** The code from the client's redirect URI, after checking `state`. */
function codeFrom(location: string | URL, state: string): string {
  const url = new URL(location);
  if (`${url.origin}${url.pathname}` !== REDIRECT_URI) throw new Error(`unexpected redirect to ${url.origin}${url.pathname}`);
  const code = url.searchParams.get('code');
  if (!code || url.searchParams.get('state') !== state) throw new Error(`authorization failed: ${url.searchParams.get('error') ?? 'no code'} ${url.searchParams.get('error_description') ?? ''}`);
  return code;
}

async function redeemCode(http: HttpClient, clientId: string, code: string, verifier: string): Promise<{ accessToken: string; refreshToken: string | undefined }> {
  const body = new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT_URI }).toString();
  const response = await http.send('POST', '/token', { 'Content-Type': 'application/x-www-form-urlencoded' }, body);
  if (response.status !== 200) throw new Error(`token: HTTP ${response.status} ${response.body}`);
  const tokens = JSON.parse(response.body) as { access_token: string; refresh_token?: string };
  return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
}

/** Opens a session, calls whoami, checks it answered for `user`; returns the session id. */
async function useMcp(http: HttpClient, accessToken: string, user: BenchUser): Promise<string> {
  const sessionId = await openSession(http, accessToken);
  const who = await callWhoami(http, accessToken, sessionId);
  if (who['subject'] !== user.id) throw new Error(`whoami answered for ${String(who['subject'])}, not ${user.id}`);
  return sessionId;
}

export interface FlowOutcome {
  /** Authorization request to tools/call result, in milliseconds. */
  ms: number;
  accessToken: string;
}

/**
 * The everyday reconnect: the browser is signed in (`cookie`) and consent is remembered, so
 * `/authorize` redirects straight back with a code. The session is closed afterwards, outside the
 * timing, as a well-behaved client does when it is done.
 */
export async function rememberedFlow(http: HttpClient, target: FlowTarget, user: BenchUser, clientId: string, cookie: string): Promise<FlowOutcome> {
  const pkce = createPkcePair();
  const state = randomBytes(12).toString('base64url');
  const started = performance.now();
  const authorize = await http.send('GET', `/authorize?${authorizationQuery(target, clientId, pkce.challenge, state)}`, { Cookie: cookie });
  const location = header(authorize, 'location');
  if (authorize.status < 300 || authorize.status >= 400 || !location) throw new Error(`authorize: HTTP ${authorize.status} ${authorize.body.slice(0, 300)}`);
  const { accessToken } = await redeemCode(http, clientId, codeFrom(location, state), pkce.verifier);
  const sessionId = await useMcp(http, accessToken, user);
  const ms = performance.now() - started;
  await closeSession(http, accessToken, sessionId);
  return { ms, accessToken };
}

export interface FirstTimeOutcome extends FlowOutcome {
  /** The signed-in browser, for later remembered flows. */
  jar: CookieJar;
}

/**
 * A user's first connection of a client: no browser session, no consent yet. The login and consent
 * pages are filled in and submitted through their HTML forms, as a person would.
 */
export async function firstTimeFlow(http: HttpClient, target: FlowTarget, user: BenchUser, clientId: string): Promise<FirstTimeOutcome> {
  const pkce = createPkcePair();
  const state = randomBytes(12).toString('base64url');
  const jar = cookieJar();
  // The pages name the issuer's host (localhost); connect to the address the server listens on.
  const loopback = (url: string | URL): string => String(url).replace(target.issuer, target.origin);
  const started = performance.now();
  const callback = await authorizeWithForms({
    fetch: (url, init) => fetch(loopback(url), init),
    authorizationUrl: `${target.issuer}/authorize?${authorizationQuery(target, clientId, pkce.challenge, state)}`,
    username: user.username,
    password: BENCH_PASSWORD,
    jar,
  });
  const { accessToken } = await redeemCode(http, clientId, codeFrom(callback, state), pkce.verifier);
  const sessionId = await useMcp(http, accessToken, user);
  const ms = performance.now() - started;
  await closeSession(http, accessToken, sessionId);
  return { ms, accessToken, jar };
}
