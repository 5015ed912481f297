/**
 * Shared set-up for the private_key_jwt, client-credentials and ID-JAG tests: real key pairs made
 * with jose, clients stored directly, assertions signed as a client or an IdP would, and form posts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import type { ClientRecord } from '../../src/storage/types.ts';
import { hashSecret, opaqueToken, randomId } from '../../src/util/crypto.ts';
import type { TestApp } from '../helpers/app.ts';
import { clientRecord } from '../helpers/records.ts';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface KeyPair {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

export async function keyPair(alg = 'ES256', kid = `k-${randomUUID()}`): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
  return { kid, alg, privateKey, publicJwk, privateJwk };
}

export interface StoredClient {
  client: ClientRecord;
  secret: string | null;
}

/** A pre-registered client stored as `portcullis clients add` would. */
export async function storeClient(t: TestApp, over: Partial<ClientRecord> = {}): Promise<StoredClient> {
  const method = over.tokenEndpointAuthMethod ?? 'client_secret_basic';
  const secret = method === 'client_secret_basic' || method === 'client_secret_post' ? opaqueToken('pcs_', t.ctx.random) : null;
  const client = clientRecord({
    clientId: 'cl_' + randomId(t.ctx.random),
    secretHash: secret === null ? null : hashSecret(secret),
    clientName: 'Machine client',
    redirectUris: [],
    grantTypes: ['client_credentials'],
    responseTypes: [],
    tokenEndpointAuthMethod: method,
    applicationType: 'web',
    createdAt: t.clock.now(),
    ...over,
  });
  await t.storage.clients.create(client);
  return { client, secret };
}

export interface AssertionOptions {
  key: KeyPair;
  /** Claims to set or (with `undefined`) leave out. */
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  now: number;
}

/** A JWT signed with `key`; `claims` override the defaults, an `undefined` value removes a claim. */
export async function signJwt(defaults: JWTPayload, { key, claims = {}, header = {}, now }: AssertionOptions): Promise<string> {
  const payload: Record<string, unknown> = { iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 120, jti: randomUUID(), ...defaults, ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

/** A client assertion (RFC 7523 §3) for `clientId`, for the test app's issuer. */
export function clientAssertion(t: TestApp, clientId: string, options: Omit<AssertionOptions, 'now'> & { now?: number }): Promise<string> {
  return signJwt({ iss: clientId, sub: clientId, aud: t.ctx.config.issuer }, { now: t.clock.now(), ...options });
}

/** An unsigned JWT (`alg: none`), as an attacker would send it. */
export function unsignedJwt(payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', ...header })}.${part(payload)}.`;
}

/** A form POST to the in-process app. */
export function postForm(t: TestApp, path: string, params: Record<string, string | undefined>, headers: Record<string, string> = {}): Promise<Response> {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) form.set(name, value);
  return t.request(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: form.toString() });
}

export function basic(clientId: string, secret: string): Record<string, string> {
  return { Authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64') };
}

/** A JWK Set served from 127.0.0.1 (the keys can change between requests), counting its fetches. */
export interface JwksServer {
  url: string;
  keys: JWK[];
  fetches: number;
  close(): Promise<void>;
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const state = { keys, fetches: 0 };
  const server: Server = createServer((_req, res) => {
    state.fetches++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  return {
    url,
    get keys() {
      return state.keys;
    },
    set keys(value) {
      state.keys = value;
    },
    get fetches() {
      return state.fetches;
    },
    set fetches(value) {
      state.fetches = value;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
