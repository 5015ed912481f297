import { LOOPBACK_HOSTS } from '../util/loopback.ts';

/**
 * `portcullis doctor`: a deployment seen from outside, in the order an MCP client discovers it
 * (unauthenticated request → 401 challenge → protected resource metadata → authorization server
 * metadata → keys). Each check is one line: passed, failed with what to fix, or skipped with why.
 */
export interface CheckResult {
  name: string;
  status: 'pass' | 'fail' | 'skip';
  /** What was seen, or for a failure what to fix. */
  detail: string;
}

export interface DoctorOptions {
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
  /** How far the server's `Date` may be from ours before tokens' `exp`/`iat` are misjudged. */
  maxClockSkewMs?: number;
  /**
   * An access token for the URL: then an authenticated `initialize` is sent too, so the event stream
   * it answers with can be checked for a buffering proxy. Never printed.
   */
  token?: string;
}

const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail });
const fail = (name: string, detail: string): CheckResult => ({ name, status: 'fail', detail });
const skip = (name: string, detail: string): CheckResult => ({ name, status: 'skip', detail });

/** Plain http is only acceptable where nothing travels over a network (MCP AS-22, RFC 8252 §7.3). */
export function isSecureOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

/** RFC 9728 §3.1: the well-known path inserted between the host and the resource's path. */
export function protectedResourceMetadataUrl(resource: URL): string {
  const path = resource.pathname === '/' ? '' : resource.pathname;
  return `${resource.origin}/.well-known/oauth-protected-resource${path}`;
}

/** RFC 8414 §3.1: the same insertion for an issuer. */
export function authorizationServerMetadataUrl(issuer: URL): string {
  const path = issuer.pathname === '/' ? '' : issuer.pathname;
  return `${issuer.origin}/.well-known/oauth-authorization-server${path}`;
}

/** OIDC Discovery §4, with the path appended after the well-known segment as MCP clients try first for a path issuer. */
export function openIdConfigurationUrl(issuer: URL): string {
  const path = issuer.pathname.replace(/\/$/, '');
  return path === '' ? `${issuer.origin}/.well-known/openid-configuration` : `${issuer.origin}/.well-known/openid-configuration${path}`;
}

/** `resource_metadata` from a `WWW-Authenticate: Bearer …` challenge (RFC 9728 §5.1), or null. */
export function resourceMetadataFrom(challenge: string): string | null {
  return /(?:^|[\s,])resource_metadata="([^"]*)"/i.exec(challenge)?.[1] ?? null;
}

const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'portcullis-doctor', version: '1' } } });

/** A placeholder origin a browser-based client would send: the metadata must answer it with CORS. */
const PROBE_ORIGIN = 'https://doctor.portcullis.invalid';

export async function runDoctor(target: string, options: DoctorOptions = {}): Promise<CheckResult[]> {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxSkew = options.maxClockSkewMs ?? 60_000;
  const get: Get = (url, init = {}) => doFetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(timeoutMs) });
  const results: CheckResult[] = [];
  const add = (r: CheckResult) => (results.push(r), r);

  const url = new URL(target);
  add(isSecureOrLoopback(url) ? pass('https', `${url.protocol}//${url.host}`) : fail('https', `${target} is plain http: clients refuse it. Serve it over https (TLS at the reverse proxy) and set PORTCULLIS_PUBLIC_URL to the https URL.`));

  // 1. What a client sends first: an MCP request without a token.
  let challenge: Response;
  try {
    challenge = await get(target, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: INITIALIZE,
    });
    await challenge.body?.cancel();
    if (challenge.ok) {
      // Public tools (`toolPolicy.public`): initialize is served without a token. A GET stream
      // without a session never is, so the challenge is looked for there.
      challenge = await get(target, { method: 'GET', redirect: 'manual', headers: { accept: 'text/event-stream' } });
      await challenge.body?.cancel();
    }
  } catch (error) {
    add(fail('401 challenge', `${target} did not answer (${reason(error)}). Check the URL, DNS, the firewall and that the reverse proxy forwards to Portcullis.`));
    return results;
  }
  const header = challenge.headers.get('www-authenticate');
  let metadataUrl: string | null = null;
  if (challenge.status === 401 && header && /^\s*Bearer\b/i.test(header)) {
    metadataUrl = resourceMetadataFrom(header);
    add(metadataUrl ? pass('401 challenge', `WWW-Authenticate: ${header}`) : fail('401 challenge', 'the Bearer challenge has no resource_metadata, so clients cannot discover the authorization server (RFC 9728 §5.1).'));
  } else if (challenge.status === 401) {
    add(fail('401 challenge', 'the 401 reached us without a WWW-Authenticate: Bearer header. A reverse proxy in front is dropping it (nginx: do not use proxy_hide_header/more_clear_headers on it; with CORS, expose it). Clients cannot discover how to sign in.'));
  } else if (challenge.status >= 300 && challenge.status < 400) {
    add(fail('401 challenge', `${target} redirects (${challenge.status} to ${challenge.headers.get('location') ?? '?'}): clients do not follow a redirect on the MCP endpoint. Use the final URL, or stop the proxy redirecting (a trailing slash rule is the usual cause).`));
  } else {
    add(fail('401 challenge', `an unauthenticated request got ${challenge.status}, not 401. Either this is not the MCP endpoint (a reverse proxy rewriting or stripping the path?) or it is not protected. The MCP URL is PORTCULLIS_PUBLIC_URL + /mcp.`));
  }
  add(clockCheck(challenge.headers.get('date'), now(), maxSkew));
  add(options.token ? await authenticatedStreamCheck(get, target, options.token) : eventStreamCheck(challenge));

  // 2. Protected resource metadata: where the challenge points, else the well-known path for the URL.
  const wellKnown = protectedResourceMetadataUrl(url);
  let prm: Record<string, unknown> | null = null;
  for (const candidate of [...new Set([metadataUrl, wellKnown].filter((u): u is string => u !== null))]) {
    const fetched = await fetchJson(get, candidate, { origin: PROBE_ORIGIN });
    if (!fetched.ok) {
      add(fail('resource metadata', `${candidate}: ${fetched.error}.${candidate === metadataUrl && candidate !== wellKnown ? ' The challenge names a URL clients cannot reach: set PORTCULLIS_PUBLIC_URL to the public origin.' : ''}`));
      continue;
    }
    prm = fetched.json;
    add(pass('resource metadata', candidate));
    add(fetched.response.headers.get('access-control-allow-origin') ? pass('CORS on metadata', `Access-Control-Allow-Origin: ${fetched.response.headers.get('access-control-allow-origin')}`) : fail('CORS on metadata', `${candidate} has no Access-Control-Allow-Origin: browser-based clients cannot read it. A reverse proxy is dropping Portcullis's CORS headers.`));
    break;
  }
  if (!prm) return results;

  add(resourceCheck(prm.resource, target));

  // 3. Each authorization server: its metadata at the RFC 8414 URL, issuer identical to the name in the PRM.
  const servers = Array.isArray(prm.authorization_servers) ? prm.authorization_servers.filter((s): s is string => typeof s === 'string') : [];
  if (servers.length === 0) add(fail('authorization servers', 'the resource metadata lists no authorization_servers: clients have nowhere to sign in.'));
  for (const issuer of servers) {
    let issuerUrl: URL;
    try {
      issuerUrl = new URL(issuer);
    } catch {
      add(fail('issuer', `"${issuer}" in authorization_servers is not a URL. Check PORTCULLIS_PUBLIC_URL / authorizationServer.issuer.`));
      continue;
    }
    if (!isSecureOrLoopback(issuerUrl)) add(fail('https (issuer)', `${issuer} is plain http: clients refuse it. Use https.`));
    const asUrl = authorizationServerMetadataUrl(issuerUrl);
    let as = await fetchJson(get, asUrl, { origin: PROBE_ORIGIN });
    let documentUrl = asUrl;
    if (!as.ok) {
      // MCP clients also try OpenID Connect discovery (2025-11-25 authorization, "Authorization Server Metadata Discovery").
      const oidcUrl = openIdConfigurationUrl(issuerUrl);
      const oidc = await fetchJson(get, oidcUrl, { origin: PROBE_ORIGIN });
      if (!oidc.ok) {
        add(fail('authorization server metadata', `${asUrl}: ${as.error}, and ${oidcUrl}: ${oidc.error}. Clients look for it exactly there (RFC 8414 §3.1, OIDC Discovery §4); the issuer's host must route to the authorization server.`));
        continue;
      }
      add(pass('authorization server metadata', `${oidcUrl} (not at ${asUrl}: clients older than the 2025-11-25 MCP spec look only there)`));
      as = oidc;
      documentUrl = oidcUrl;
    }
    add(
      as.json.issuer === issuer
        ? pass('issuer', `"${issuer}" in the resource metadata, the metadata URL and the document`)
        : fail('issuer', `${documentUrl} says issuer "${String(as.json.issuer)}" but the resource metadata names "${issuer}"; they must match byte for byte (RFC 8414 §3.3; a trailing slash counts). Set PORTCULLIS_PUBLIC_URL so both agree.`),
    );
    for (const result of authorizationServerChecks(as.json)) add(result);
    add(await jwksCheck(get, as.json.jwks_uri));
  }
  return results;
}

/**
 * What MCP clients need from the authorization server's metadata besides its issuer: PKCE with S256
 * (clients must refuse to proceed without it), a way to become a client (dynamic registration or
 * client ID metadata documents; else only pre-registered clients work), and RFC 9207 `iss` in the
 * authorization response, which clients check against the issuer when it is advertised.
 */
export function authorizationServerChecks(metadata: Record<string, unknown>): CheckResult[] {
  const methods = Array.isArray(metadata.code_challenge_methods_supported) ? metadata.code_challenge_methods_supported : [];
  const results = [
    methods.includes('S256')
      ? pass('PKCE', 'code_challenge_methods_supported includes S256')
      : fail('PKCE', 'the metadata does not list S256 in code_challenge_methods_supported: MCP clients refuse to sign in (they must verify PKCE support). Enable PKCE S256 at the authorization server, or advertise it.'),
  ];
  const registration = typeof metadata.registration_endpoint === 'string';
  const documents = metadata.client_id_metadata_document_supported === true;
  results.push(
    registration || documents
      ? pass('client registration', [registration ? 'dynamic registration' : '', documents ? 'client ID metadata documents' : ''].filter(Boolean).join(' and '))
      : fail('client registration', 'neither registration_endpoint nor client_id_metadata_document_supported: clients that are not pre-registered (Claude, ChatGPT, Cursor, VS Code) cannot sign in. Turn on PORTCULLIS_REGISTRATION or client ID metadata documents.'),
  );
  results.push(
    metadata.authorization_response_iss_parameter_supported === true
      ? pass('iss in authorization responses', 'RFC 9207: clients can tell which server answered (mix-up defence)')
      : skip('iss in authorization responses', 'not advertised (RFC 9207): clients cannot detect a mix-up between authorization servers; fine with one server'),
  );
  return results;
}

/** RFC 9728 §3.3: the metadata's `resource` is the URL the client used, byte for byte (Gemini CLI refuses otherwise). */
export function resourceCheck(resource: unknown, target: string): CheckResult {
  if (resource === target) return pass('resource', `"${target}" is the URL exactly`);
  const said = typeof resource === 'string' ? resource : String(resource);
  let fix = `Set PORTCULLIS_PUBLIC_URL to the origin clients use (${new URL(target).origin}).`;
  try {
    const theirs = new URL(said);
    if (theirs.origin === new URL(target).origin && theirs.pathname !== new URL(target).pathname) {
      fix = `The origin agrees but the path does not: a reverse proxy is rewriting the path. Publish Portcullis's MCP endpoint at ${theirs.pathname} unchanged, or give clients ${said}.`;
    } else if (theirs.pathname !== new URL(target).pathname) {
      fix += ` The path differs too (${theirs.pathname}): a reverse proxy rewriting the path must pass it unchanged.`;
    }
  } catch {
    // not a URL at all: the PORTCULLIS_PUBLIC_URL advice stands
  }
  return fail('resource', `the metadata says resource "${said}" but clients use "${target}"; they must be equal byte for byte. ${fix}`);
}

/** A token's `exp`/`iat` are judged by each side's clock; a minute apart starts refusing fresh tokens. */
function clockCheck(date: string | null, ourNow: number, maxSkewMs: number): CheckResult {
  const theirs = date ? Date.parse(date) : NaN;
  if (Number.isNaN(theirs)) return skip('clock', 'the server sent no Date header to compare with');
  const skew = Math.round((theirs - ourNow) / 1000);
  // Date has one-second resolution; allow for it.
  return Math.abs(theirs - ourNow) <= maxSkewMs + 1000 ? pass('clock', `server and this machine agree within ${Math.abs(skew)} s`) : fail('clock', `the server's clock is ${skew} s off this machine's: tokens will look expired or not yet valid. Run NTP (chrony, systemd-timesyncd) on the server.`);
}

/**
 * A reverse proxy that buffers a Server-Sent Events stream holds every message until the response
 * ends, so streamed MCP answers arrive late or never. Only testable when the endpoint answered with
 * an event stream; an unauthenticated request normally gets the 401 instead.
 */
export function eventStreamCheck(response: Response): CheckResult {
  const type = response.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('text/event-stream')) return skip('SSE through the proxy', 'not testable without an access token (PORTCULLIS_DOCTOR_TOKEN); a proxy must not buffer text/event-stream (nginx: proxy_buffering off)');
  const problems: string[] = [];
  if (response.headers.has('content-length')) problems.push('it has a Content-Length, so something buffered the whole stream');
  if (!/no-cache|no-store/i.test(response.headers.get('cache-control') ?? '')) problems.push('Cache-Control: no-cache is missing (a proxy rewrote it)');
  if ((response.headers.get('x-accel-buffering') ?? '').toLowerCase() === 'yes') problems.push('X-Accel-Buffering: yes');
  return problems.length === 0 ? pass('SSE through the proxy', 'event stream unbuffered') : fail('SSE through the proxy', `the event stream looks buffered: ${problems.join('; ')}. Turn off response buffering for the MCP path (nginx: proxy_buffering off).`);
}

type Get = (url: string, init?: RequestInit) => Promise<Response>;

/** A stream's headers come at once from Portcullis; held back this long, something in between is buffering. */
const STREAM_HEADERS_MS = 3_000;

/**
 * With a token, doctor opens a session as a client does and then the session's GET stream: the
 * long-lived event stream a buffering proxy breaks (its headers never arrive, or arrive with a length).
 */
async function authenticatedStreamCheck(get: Get, target: string, token: string): Promise<CheckResult> {
  const name = 'SSE through the proxy';
  const auth = { authorization: `Bearer ${token}` };
  try {
    const init = await get(target, { method: 'POST', redirect: 'manual', headers: { ...auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: INITIALIZE });
    const text = await init.text();
    if (init.status === 401 || init.status === 403) {
      return fail(name, `the token was refused (${init.status}${init.headers.get('www-authenticate') ? `: ${init.headers.get('www-authenticate')}` : ''}). Use a fresh access token issued for this URL.`);
    }
    if (!init.ok) return fail(name, `the authenticated initialize got ${init.status}`);
    const answered = eventStreamCheck(init);
    if (answered.status === 'fail') return answered;
    const session = init.headers.get('mcp-session-id');
    const version = /"protocolVersion"\s*:\s*"([^"]+)"/.exec(text)?.[1];
    const headers: Record<string, string> = { ...auth, ...(session ? { 'mcp-session-id': session } : {}), ...(version ? { 'mcp-protocol-version': version } : {}) };
    await (await get(target, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' })).body?.cancel();
    let stream: Response;
    try {
      stream = await get(target, { headers: { ...headers, accept: 'text/event-stream' }, signal: AbortSignal.timeout(STREAM_HEADERS_MS) });
    } catch (error) {
      if ((error as Error).name !== 'TimeoutError') throw error;
      return fail(name, `the event stream's headers did not arrive within ${STREAM_HEADERS_MS / 1000} s: a proxy is buffering it, and clients will wait for messages that never come. Turn off response buffering for the MCP path (nginx: proxy_buffering off).`);
    } finally {
      if (session) void get(target, { method: 'DELETE', headers }).then((r) => r.body?.cancel(), () => {});
    }
    await stream.body?.cancel();
    if (stream.status === 405) return answered.status === 'pass' ? answered : skip(name, 'the server offers no GET event stream and answered initialize with JSON');
    if (!stream.ok) return fail(name, `the session's event stream (GET) got ${stream.status}`);
    return eventStreamCheck(stream);
  } catch (error) {
    return fail(name, `the authenticated requests failed (${reason(error)})`);
  }
}

async function jwksCheck(get: Get, jwksUri: unknown): Promise<CheckResult> {
  if (typeof jwksUri !== 'string') return skip('JWKS', 'the authorization server metadata has no jwks_uri');
  try {
    if (!isSecureOrLoopback(new URL(jwksUri))) return fail('JWKS', `${jwksUri} is plain http: its keys could be replaced on the way. Use https.`);
  } catch {
    return fail('JWKS', `jwks_uri "${jwksUri}" is not a URL`);
  }
  const fetched = await fetchJson(get, jwksUri);
  if (!fetched.ok) return fail('JWKS', `${jwksUri}: ${fetched.error}. Resource servers cannot verify tokens without it.`);
  const keys = fetched.json.keys;
  return Array.isArray(keys) && keys.length > 0 ? pass('JWKS', `${keys.length} key(s) at ${jwksUri}`) : fail('JWKS', `${jwksUri} has no keys: tokens cannot be verified. Run portcullis keys list on the server.`);
}

type Fetched = { ok: true; response: Response; json: Record<string, unknown> } | { ok: false; error: string };

async function fetchJson(get: Get, url: string, headers: Record<string, string> = {}): Promise<Fetched> {
  try {
    const response = await get(url, { headers: { accept: 'application/json', ...headers } });
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, error: `HTTP ${response.status}` };
    }
    const json: unknown = await response.json();
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return { ok: false, error: 'not a JSON object' };
    return { ok: true, response, json: json as Record<string, unknown> };
  } catch (error) {
    return { ok: false, error: reason(error) };
  }
}

function reason(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (error.name === 'TimeoutError') return 'no answer in time';
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
