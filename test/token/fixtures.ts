/**
 * Shared set-up for the token, revocation, introspection and userinfo tests: users, clients and
 * authorization codes are created directly in storage (with a real PKCE pair), so these tests do not
 * depend on the /authorize flow.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createUser } from '../../src/identity/users.ts';
import type { ClientRecord, UserRecord } from '../../src/storage/types.ts';
import { base64url, hashSecret, opaqueToken, pkceS256, randomId } from '../../src/util/crypto.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { clientRecord } from '../helpers/records.ts';

export interface Fixture extends TestApp {
  user: UserRecord;
  /** Every credential handed out in this fixture, for the no-secrets-in-logs checks. */
  secrets: Set<string>;
}

export async function setup(config: ConfigInput = {}): Promise<Fixture> {
  const t = await createTestApp(config);
  const user = await createUser(t.storage, { username: 'alice', password: 'correct horse battery' }, { now: t.clock.now(), random: t.ctx.random });
  return Object.assign(t, { user, secrets: new Set<string>() });
}

export const REDIRECT_URI = 'http://127.0.0.1:33418/callback';

export interface ClientOptions extends Partial<Omit<ClientRecord, 'secretHash'>> {
  /** A secret to register (for confidential clients); generated when omitted. */
  secret?: string;
}

/** A registered client: public (`none`) unless another method is given. */
export async function addClient(t: Fixture, options: ClientOptions = {}): Promise<{ client: ClientRecord; secret: string | null }> {
  const method = options.tokenEndpointAuthMethod ?? 'none';
  const secret = method === 'none' ? null : (options.secret ?? opaqueToken('pcs_', t.ctx.random));
  const { secret: _ignored, ...rest } = options;
  const client = clientRecord({
    clientId: 'cl_' + randomId(t.ctx.random),
    redirectUris: [REDIRECT_URI],
    createdAt: t.clock.now(),
    ...rest,
    tokenEndpointAuthMethod: method,
    secretHash: secret === null ? null : hashSecret(secret),
  });
  await t.storage.clients.create(client);
  if (secret) t.secrets.add(secret);
  return { client, secret };
}

export interface CodeOptions {
  scopes?: string[];
  resource?: string;
  redirectUri?: string;
  issueRefreshToken?: boolean;
  nonce?: string | null;
  ttlSeconds?: number;
  user?: UserRecord;
}

export interface IssuedCode {
  code: string;
  verifier: string;
  grantId: string;
}

/** An authorization code as /authorize would store it, with a real S256 PKCE pair. */
export async function addCode(t: Fixture, client: ClientRecord, options: CodeOptions = {}): Promise<IssuedCode> {
  const verifier = base64url(randomBytes(32));
  const code = opaqueToken('pcc_', t.ctx.random);
  const grantId = 'gr_' + randomId(t.ctx.random);
  const now = t.clock.now();
  await t.storage.authorizationCodes.create({
    codeHash: hashSecret(code),
    grantId,
    clientId: client.clientId,
    userId: (options.user ?? t.user).id,
    redirectUri: options.redirectUri ?? REDIRECT_URI,
    codeChallenge: pkceS256(verifier),
    scopes: options.scopes ?? ['tasks:read', 'offline_access'],
    resource: options.resource ?? t.ctx.config.resource,
    nonce: options.nonce ?? null,
    authTime: now - 5000,
    issueRefreshToken: options.issueRefreshToken ?? true,
    expiresAt: now + (options.ttlSeconds ?? t.ctx.config.authorizationCodeTtl) * 1000,
  });
  t.secrets.add(code);
  t.secrets.add(verifier);
  return { code, verifier, grantId };
}

export interface PostOptions {
  /** client_secret_basic credentials: each part is form-urlencoded, then base64'd (RFC 6749 §2.3.1). */
  basic?: { id: string; secret: string };
  headers?: Record<string, string>;
  method?: string;
}

/** RFC 6749 §2.3.1 Basic credentials. */
export function basicHeader(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return 'Basic ' + Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64');
}

/** A form POST to one of the back-channel endpoints. */
export function post(t: Fixture, path: string, params: Record<string, string>, options: PostOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', ...options.headers };
  if (options.basic) headers['Authorization'] = basicHeader(options.basic.id, options.basic.secret);
  return t.request(path, { method: options.method ?? 'POST', headers, body: new URLSearchParams(params).toString() });
}

export interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

/** Redeems a code as a public client (`client_id` in the body) and expects success. */
export async function redeem(t: Fixture, client: ClientRecord, issued: IssuedCode, extra: Record<string, string> = {}): Promise<TokenBody> {
  const res = await post(t, '/token', { grant_type: 'authorization_code', code: issued.code, code_verifier: issued.verifier, client_id: client.clientId, ...extra });
  const body = (await res.json()) as TokenBody;
  assert.equal(res.status, 200, JSON.stringify(body));
  remember(t, body);
  return body;
}

/** Refreshes as a public client; returns the raw response. */
export function refresh(t: Fixture, client: ClientRecord, refreshToken: string, extra: Record<string, string> = {}): Promise<Response> {
  return post(t, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.clientId, ...extra });
}

/** Adds the credentials of a token response to the fixture's secrets. */
export function remember(t: Fixture, body: Partial<TokenBody>): void {
  for (const v of [body.access_token, body.refresh_token, body.id_token]) if (v) t.secrets.add(v);
}

/** Verifies a JWT the way a resource server would: from the published JWKS document. */
export async function verifyFromPublishedJwks(t: Fixture, jwt: string, typ: string): Promise<JWTPayload> {
  const res = await t.request('/jwks');
  assert.equal(res.status, 200);
  const jwks = (await res.json()) as { keys: [] };
  const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: t.ctx.config.issuer, typ, currentDate: new Date(t.clock.now()) });
  assert.equal(decodeProtectedHeader(jwt).typ, typ);
  return payload;
}

export async function errorOf(res: Response): Promise<{ status: number; error: string; description: string }> {
  const body = (await res.json()) as { error: string; error_description: string };
  return { status: res.status, error: body.error, description: body.error_description };
}

/** No credential handed out in this fixture appears in any log line. */
export function assertNoSecretsLogged(t: Fixture): void {
  const log = t.logger.lines.join('\n');
  for (const secret of t.secrets) assert.ok(!log.includes(secret), `a credential (${secret.slice(0, 6)}...) appeared in the logs`);
}
