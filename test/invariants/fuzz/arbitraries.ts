import fc from 'fast-check';
import { slot, type FuzzFixture } from './fixture.ts';
import { PASSWORD } from '../flow.ts';

/**
 * Arbitrary HTTP requests for the fuzz suite: random ones over every route, and real requests built
 * from the fixture with one to three parts mutated (a field dropped, replaced, duplicated, moved, a
 * header or cookie changed). Bodies and headers stay inside what HTTP can carry, so every value here
 * is something a client could really send.
 */
export interface FuzzRequest {
  method: string;
  path: string;
  /** Raw query pairs; `rawQuery` is appended without encoding (malformed percent-escapes and all). */
  query: Array<[string, string]>;
  rawQuery: string;
  headers: Array<[string, string]>;
  body: string | null;
}

export const ROUTES = [
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
  '/.well-known/oauth-protected-resource/mcp',
  '/.well-known/oauth-protected-resource',
  '/jwks',
  '/register',
  '/authorize',
  '/login',
  '/logout',
  '/consent',
  '/callback',
  '/token',
  '/revoke',
  '/introspect',
  '/userinfo',
  '/mcp',
  '/healthz',
  '/readyz',
] as const;

const METHODS = ['GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];

/** Parameter names the endpoints read, so random requests reach past "missing parameter". */
const PARAMETER_NAMES = [
  'grant_type', 'code', 'code_verifier', 'redirect_uri', 'client_id', 'client_secret', 'refresh_token', 'scope', 'resource',
  'token', 'token_type_hint', 'response_type', 'state', 'code_challenge', 'code_challenge_method', 'prompt', 'nonce',
  'request', 'request_uri', 'csrf_token', 'username', 'password', 'decision', 'client_assertion', 'client_assertion_type',
  'assertion', 'subject_token', 'requested_token_type', 'audience', 'max_age', 'response_mode', 'login_hint', 'error', 'tx',
];

/** Strings that have broken parsers before: encodings, sizes, separators, look-alikes. */
const NASTY = [
  '', ' ', '%', '%zz', '%00', '\u0000', '\uFFFD', '\uD800', '😀', 'null', 'undefined', '[]', '{}', '__proto__', 'constructor',
  'a'.repeat(5000), '-1', '0', '1e309', 'NaN', 'true', 'javascript:alert(1)', 'http://127.0.0.1:1/', 'https://evil.example/cb',
  'http://localhost:3000/mcp', 'http://localhost:3000', 'S256', 'plain', 'code', 'token', 'authorization_code', 'refresh_token',
  'client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'Bearer', 'eyJhbGciOiJub25lIn0.e30.', 'a b', 'a+b', 'a&b=c',
  '../../etc/passwd', '<script>', "'; drop table users; --", 'tasks:read', 'tasks:write', 'openid', 'allow', 'deny',
];

const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.base64String({ maxLength: 60 }) },
);

/** What a header value can carry: visible ASCII and latin-1, no CR/LF. */
const headerText = fc.oneof(
  fc.constantFrom('', 'x', 'null', 'a'.repeat(3000), '%zz', 'Bearer', 'Basic', '\t'),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 60 }),
);

const pairs = (values: fc.Arbitrary<string>, names: fc.Arbitrary<string> = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...PARAMETER_NAMES) }, { weight: 1, arbitrary: text })) =>
  fc.array(fc.tuple(names, values), { maxLength: 8 });

const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');

export function requestArbitraries(f: FuzzFixture) {
  const real = fc.constantFrom(...f.values);
  const value = fc.oneof({ weight: 3, arbitrary: text }, { weight: 2, arbitrary: real });
  /** A real value with one character changed, or cut short, or extended. */
  const almostReal = fc.tuple(fc.constantFrom(...f.values.filter((v) => !v.startsWith('__live_'))), fc.nat(), fc.constantFrom('A', '_', '.', '%', '')).map(([v, i, c]) => {
    const at = i % Math.max(v.length, 1);
    return v.slice(0, at) + c + v.slice(at + 1);
  });

  const authorization = fc.oneof(
    fc.constant(`Bearer ${slot('accessToken')}`),
    fc.constant(`Bearer ${f.revokedAccessToken}`),
    almostReal.map((t) => `Bearer ${t}`),
    fc.tuple(value, value).map(([u, p]) => `Basic ${b64(`${u}:${p}`)}`),
    fc.constant(`Basic ${b64(`${encodeURIComponent(f.clientId)}:${encodeURIComponent(f.clientSecret)}`)}`),
    headerText.map((t) => `Basic ${t}`),
    headerText.map((t) => `Bearer ${t}`),
    fc.constantFrom('Bearer', 'Bearer ', 'Basic', 'DPoP x', `bearer  ${slot('accessToken')}`, `Bearer ${slot('accessToken')}, Bearer x`),
    headerText,
  );
  const contentType = fc.oneof(
    fc.constantFrom(
      'application/x-www-form-urlencoded', 'application/json', 'application/x-www-form-urlencoded; charset=utf-8',
      'application/json; charset=utf-16', 'multipart/form-data; boundary=x', 'text/plain', 'application/jwt', 'APPLICATION/JSON',
      'application/x-www-form-urlencoded; charset=latin1', 'application/json;;', '',
    ),
    headerText,
  );
  const cookie = fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...f.cookieNames), text.filter((t) => /^[\x21-\x7e]*$/.test(t) && !/[;=,]/.test(t))), fc.oneof(real, almostReal, headerText.filter((t) => !t.includes(';')))), { minLength: 1, maxLength: 4 })
    .map((cs) => cs.map(([n, v]) => `${n}=${v}`).join('; '));
  const header: fc.Arbitrary<[string, string]> = fc.oneof(
    authorization.map((v) => ['Authorization', v] as [string, string]),
    contentType.map((v) => ['Content-Type', v] as [string, string]),
    cookie.map((v) => ['Cookie', v] as [string, string]),
    fc.oneof(fc.constantFrom('http://localhost:3000', 'null', 'https://evil.example', 'http://127.0.0.1:4567'), headerText).map((v) => ['Origin', v] as [string, string]),
    fc.oneof(fc.constantFrom('application/json, text/event-stream', 'application/json', 'text/event-stream', 'text/html', '*/*'), headerText).map((v) => ['Accept', v] as [string, string]),
    fc.oneof(fc.uuid(), headerText).map((v) => ['Mcp-Session-Id', v] as [string, string]),
    fc.oneof(fc.constantFrom('2025-06-18', '2025-03-26', '2025-11-25', '2026-07-28', '2024-11-05'), headerText).map((v) => ['Mcp-Protocol-Version', v] as [string, string]),
    headerText.map((v) => ['Last-Event-ID', v] as [string, string]),
    headerText.map((v) => ['X-Forwarded-For', v] as [string, string]),
    headerText.map((v) => ['DPoP', v] as [string, string]),
    fc.tuple(fc.constantFrom('X-Fuzz', 'Forwarded', 'Host', 'Sec-Fetch-Site', 'Referer'), headerText),
  );

  const formBody = pairs(value).map((ps) => new URLSearchParams(ps).toString());
  const rawFormBody = pairs(value).map((ps) => ps.map(([k, v]) => `${k}=${v}`).join('&'));
  const jsonRpc = fc.record(
    {
      jsonrpc: fc.oneof(fc.constant('2.0'), fc.jsonValue()),
      id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.jsonValue()),
      method: fc.oneof(fc.constantFrom('initialize', 'tools/list', 'tools/call', 'ping', 'notifications/initialized', 'resources/list', 'prompts/get', 'logging/setLevel'), fc.string()),
      params: fc.oneof(
        fc.jsonValue(),
        fc.record({
          protocolVersion: fc.constantFrom('2025-06-18', '2025-03-26', 'nope'),
          capabilities: fc.jsonValue(),
          clientInfo: fc.jsonValue(),
        }),
        fc.record({ name: fc.constantFrom('whoami', 'list_tasks', 'create_task', 'complete_task', 'delete_task', 'nope'), arguments: fc.jsonValue() }),
      ),
    },
    { requiredKeys: [] },
  );
  const registration = fc.record(
    {
      redirect_uris: fc.oneof(fc.array(fc.oneof(real, text, fc.webUrl()), { maxLength: 3 }), fc.jsonValue()),
      client_name: fc.oneof(text, fc.jsonValue()),
      grant_types: fc.oneof(fc.array(fc.constantFrom('authorization_code', 'refresh_token', 'client_credentials', 'implicit', 'password')), fc.jsonValue()),
      response_types: fc.oneof(fc.array(fc.constantFrom('code', 'token')), fc.jsonValue()),
      token_endpoint_auth_method: fc.oneof(fc.constantFrom('none', 'client_secret_post', 'client_secret_basic', 'private_key_jwt', 'tls_client_auth'), fc.jsonValue()),
      scope: fc.oneof(text, fc.jsonValue()),
      jwks: fc.jsonValue(),
      jwks_uri: fc.oneof(fc.webUrl(), text),
      logo_uri: fc.oneof(fc.webUrl(), text),
      client_uri: fc.oneof(fc.webUrl(), text),
      application_type: fc.oneof(fc.constantFrom('web', 'native'), text),
      software_statement: text,
    },
    { requiredKeys: [] },
  );
  const jsonBody = fc.oneof(
    jsonRpc.map((v) => JSON.stringify(v)),
    fc.array(jsonRpc, { maxLength: 3 }).map((v) => JSON.stringify(v)),
    registration.map((v) => JSON.stringify(v)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.constantFrom('{', '{"a":', '[', '\u0000', '{"__proto__":{"x":1}}', '{"redirect_uris":["http://127.0.0.1/cb"],"__proto__":{"admin":true}}'),
  );
  const body = fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 3, arbitrary: formBody },
    { weight: 1, arbitrary: rawFormBody },
    { weight: 3, arbitrary: jsonBody },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  );
  const path = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...ROUTES) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...ROUTES), fc.constantFrom('/', '//', '/x', '%2f', '/..', ';a', '%00', '.json')).map(([r, s]) => r + s) },
  );
  const rawQuery = fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('%zz', 'a=%', '&&&=', 'scope=%E0%A4%A', 'x=1;y=2', '=') });

  /** A request made up from scratch. */
  const randomRequest: fc.Arbitrary<FuzzRequest> = fc.record({
    method: fc.constantFrom(...METHODS),
    path,
    query: pairs(value),
    rawQuery,
    headers: fc.array(header, { maxLength: 5 }),
    body,
  });

  /** Real requests, as the fixture's client and browsers send them. */
  const form = 'application/x-www-form-urlencoded';
  const clientFields: Array<[string, string]> = [['client_id', f.clientId], ['client_secret', f.clientSecret]];
  const loginFields = f.loginFields.map((name): [string, string] => [name, name === 'password' ? PASSWORD : name === 'username' ? 'bob' : slot(`login.${name}`)]);
  const consentFields = f.consentFields.map((name): [string, string] => [name, slot(`consent.${name}`)]);
  const fieldOf = (fields: Array<[string, string]>, name: string) => fields.filter(([k]) => k === name);
  const bearer = `Bearer ${slot('accessToken')}`;
  const templates: FuzzTemplate[] = [
    { method: 'GET', path: '/authorize', query: f.authorizeQuery, headers: [], fields: null },
    { method: 'POST', path: '/authorize', query: [], headers: [['Content-Type', form]], fields: f.authorizeQuery },
    { method: 'POST', path: '/login', query: [], headers: [['Content-Type', form], ['Cookie', slot('loginCookie')], ['Origin', 'http://localhost:3000']], fields: loginFields },
    { method: 'POST', path: '/consent', query: [], headers: [['Content-Type', form], ['Cookie', slot('consentCookie')], ['Origin', 'http://localhost:3000']], fields: consentFields },
    { method: 'GET', path: '/consent', query: fieldOf(consentFields, 'request'), headers: [['Cookie', slot('consentCookie')]], fields: null },
    { method: 'GET', path: '/login', query: fieldOf(loginFields, 'request'), headers: [['Cookie', slot('loginCookie')]], fields: null },
    { method: 'POST', path: '/logout', query: [], headers: [['Content-Type', form], ['Cookie', slot('consentCookie')]], fields: fieldOf(consentFields, 'csrf_token') },
    { method: 'POST', path: '/token', query: [], headers: [['Content-Type', form]], fields: [['grant_type', 'authorization_code'], ['code', slot('code')], ['code_verifier', slot('verifier')], ['redirect_uri', f.redirectUri], ...clientFields] },
    { method: 'POST', path: '/token', query: [], headers: [['Content-Type', form]], fields: [['grant_type', 'authorization_code'], ['code', f.usedCode], ['code_verifier', f.usedVerifier], ['redirect_uri', f.redirectUri], ...clientFields] },
    { method: 'POST', path: '/token', query: [], headers: [['Content-Type', form]], fields: [['grant_type', 'refresh_token'], ['refresh_token', slot('refreshToken')], ...clientFields] },
    { method: 'POST', path: '/token', query: [], headers: [['Content-Type', form]], fields: [['grant_type', 'refresh_token'], ['refresh_token', f.rotatedRefreshToken], ...clientFields] },
    { method: 'POST', path: '/token', query: [], headers: [['Content-Type', form], ['Authorization', `Basic ${b64(`${f.clientId}:${f.clientSecret}`)}`]], fields: [['grant_type', 'client_credentials'], ['scope', 'tasks:read']] },
    { method: 'POST', path: '/revoke', query: [], headers: [['Content-Type', form]], fields: [['token', slot('accessToken')], ['token_type_hint', 'access_token'], ...clientFields] },
    { method: 'POST', path: '/revoke', query: [], headers: [['Content-Type', form]], fields: [['token', slot('refreshToken')], ['token_type_hint', 'refresh_token'], ...clientFields] },
    { method: 'POST', path: '/introspect', query: [], headers: [['Content-Type', form]], fields: [['token', slot('accessToken')], ...clientFields] },
    { method: 'GET', path: '/userinfo', query: [], headers: [['Authorization', bearer]], fields: null },
    { method: 'POST', path: '/register', query: [], headers: [['Content-Type', 'application/json']], json: { redirect_uris: [f.redirectUri], client_name: 'Fuzz', token_endpoint_auth_method: 'none' } },
    ...[
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'create_task', arguments: { title: 'fuzz' } } },
      { jsonrpc: '2.0', id: 3, method: 'tools/list' },
    ].map((json): FuzzTemplate => ({
      method: 'POST',
      path: '/mcp',
      query: [],
      headers: [['Content-Type', 'application/json'], ['Accept', 'application/json, text/event-stream'], ['Authorization', bearer], ['Mcp-Protocol-Version', '2025-06-18']],
      json,
    })),
  ];
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('drop-field' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('replace-field' as const), at: fc.nat(), with: fc.oneof(value, almostReal) }),
    fc.record({ kind: fc.constant('duplicate-field' as const), at: fc.nat(), with: value }),
    fc.record({ kind: fc.constant('add-field' as const), name: fc.constantFrom(...PARAMETER_NAMES), with: value }),
    fc.record({ kind: fc.constant('field-to-query' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('drop-header' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('set-header' as const), header }),
    fc.record({ kind: fc.constant('method' as const), method: fc.constantFrom(...METHODS) }),
    fc.record({ kind: fc.constant('json-field' as const), path: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), with: fc.jsonValue() }),
  );
  const mutatedRequest: fc.Arbitrary<FuzzRequest> = fc
    .tuple(fc.constantFrom(...templates), fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([template, mutations]) => mutations.reduce(applyMutation, fromTemplate(template)).request);

  return { randomRequest, mutatedRequest, templates };
}

export interface FuzzTemplate {
  method: string;
  path: string;
  query: Array<[string, string]>;
  headers: Array<[string, string]>;
  fields?: Array<[string, string]> | null;
  json?: unknown;
}

type Mutation =
  | { kind: 'drop-field'; at: number }
  | { kind: 'replace-field'; at: number; with: string }
  | { kind: 'duplicate-field'; at: number; with: string }
  | { kind: 'add-field'; name: string; with: string }
  | { kind: 'field-to-query'; at: number }
  | { kind: 'drop-header'; at: number }
  | { kind: 'set-header'; header: [string, string] }
  | { kind: 'method'; method: string }
  | { kind: 'json-field'; path: number[]; with: unknown };

/** A request being mutated: its form fields (in the body, or the query for GET) or JSON kept apart until the end. */
interface Draft {
  template: FuzzTemplate;
  fields: Array<[string, string]>;
  fieldsInQuery: boolean;
  json: unknown;
  request: FuzzRequest;
}

function fromTemplate(template: FuzzTemplate): Draft {
  const fieldsInQuery = template.fields == null;
  const fields = [...(template.fields ?? template.query)];
  const json = structuredClone(template.json);
  return finish({ template, fields, fieldsInQuery, json, request: { method: template.method, path: template.path, query: [], rawQuery: '', headers: [...template.headers], body: null } });
}

function finish(draft: Draft): Draft {
  const r = draft.request;
  const body = draft.json !== undefined ? JSON.stringify(draft.json) : draft.fieldsInQuery ? null : new URLSearchParams(draft.fields).toString();
  return { ...draft, request: { ...r, query: draft.fieldsInQuery ? draft.fields : r.query, body } };
}

function applyMutation(draft: Draft, m: Mutation): Draft {
  const fields = [...draft.fields];
  const request = { ...draft.request, headers: [...draft.request.headers], query: [...draft.request.query] };
  const at = (n: number, length: number) => n % Math.max(length, 1);
  switch (m.kind) {
    case 'drop-field':
      fields.splice(at(m.at, fields.length), 1);
      break;
    case 'replace-field':
      if (fields.length) fields[at(m.at, fields.length)] = [fields[at(m.at, fields.length)]![0], m.with];
      break;
    case 'duplicate-field':
      if (fields.length) fields.push([fields[at(m.at, fields.length)]![0], m.with]);
      break;
    case 'add-field':
      fields.push([m.name, m.with]);
      break;
    case 'field-to-query': {
      const [moved] = fields.splice(at(m.at, fields.length), 1);
      if (moved) request.query.push(moved);
      break;
    }
    case 'drop-header':
      request.headers.splice(at(m.at, request.headers.length), 1);
      break;
    case 'set-header':
      request.headers = [...request.headers.filter(([n]) => n.toLowerCase() !== m.header[0].toLowerCase()), m.header];
      break;
    case 'method':
      request.method = m.method;
      break;
    case 'json-field':
      return finish({ ...draft, fields, request, json: setJsonAt(draft.json, m.path, m.with) });
  }
  return finish({ ...draft, fields, request });
}

/** `json` with the value at an index path (into object keys or array items) replaced. */
function setJsonAt(json: unknown, path: number[], replacement: unknown): unknown {
  if (json === undefined) return json;
  if (path.length === 0 || json === null || typeof json !== 'object') return replacement;
  const [first, ...rest] = path as [number, ...number[]];
  if (Array.isArray(json)) {
    if (json.length === 0) return [replacement];
    const copy = [...json];
    copy[first % copy.length] = setJsonAt(copy[first % copy.length], rest, replacement);
    return copy;
  }
  const keys = Object.keys(json);
  if (keys.length === 0) return replacement;
  const key = keys[first % keys.length]!;
  return { ...(json as Record<string, unknown>), [key]: setJsonAt((json as Record<string, unknown>)[key], rest, replacement) };
}

/** The web-standard Request for a fuzzed request (GET and HEAD carry no body in fetch). */
export function toRequest(origin: string, r: FuzzRequest): Request {
  const url = new URL(r.path, origin);
  for (const [k, v] of r.query) url.searchParams.append(k, v);
  if (r.rawQuery) url.search = url.search ? `${url.search}&${r.rawQuery}` : `?${r.rawQuery}`;
  const headers = new Headers();
  for (const [name, value] of r.headers) headers.append(name, value);
  const hasBody = r.body !== null && r.method !== 'GET' && r.method !== 'HEAD';
  return new Request(url, { method: r.method, headers, ...(hasBody ? { body: r.body } : {}) });
}
