/**
 * The client side of the DPoP tests: oauth4webapi (a client library not written here, with its own
 * RFC 9449 implementation) against a real Portcullis over loopback, plus hand-made proofs (jose) for
 * the cases a well-behaved library never produces (a replay, a wrong `htu`, a stale `iat`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, exportJWK, SignJWT, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { ClientRecord, Storage } from '../../src/storage/types.ts';
import { hashSecret } from '../../src/util/crypto.ts';
import { E2E_USER, startRealServer, type RealServer } from '../helpers/e2e.ts';
import { authorizationRequestUrl, authorizeWithForms, createPkcePair, registerPublicClient } from '../helpers/oauth-flow.ts';
import { clientRecord } from '../helpers/records.ts';

export const REDIRECT = 'http://127.0.0.1:8765/callback';
/** oauth4webapi refuses http:// endpoints unless told; the test server listens on plain loopback. */
export const INSECURE = { [oauth.allowInsecureRequests]: true } as const;

export interface DpopTestServer extends RealServer {
  /** The metadata as oauth4webapi discovered and validated it. */
  as: oauth.AuthorizationServer;
  storage: Storage;
}

export async function startDpopServer(config: ConfigInput = {}, options: { storage?: Storage } = {}): Promise<DpopTestServer> {
  const server = await startRealServer(config, options);
  // Behind a load balancer the public URL is not the socket's: discovery goes to the socket, and
  // names the issuer the instances share.
  const issuer = new URL(server.portcullis.ctx.config.issuer);
  const response = await oauth.discoveryRequest(new URL(server.origin), { algorithm: 'oauth2', ...INSECURE });
  const as = await oauth.processDiscoveryResponse(issuer, response);
  return { ...server, as, storage: server.portcullis.ctx.storage };
}

/**
 * Request options that reach this instance's socket whatever host the URL names: a load balancer in
 * front of several instances sharing one public URL. The client signs its proofs for the public URL.
 */
export function through(server: DpopTestServer) {
  return { [oauth.customFetch]: proxyFetch(server), ...INSECURE };
}

/** A fetch that sends every request to this instance's socket, keeping its path and query. */
export function proxyFetch(server: DpopTestServer): (input: string | URL, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const target = new URL(input);
    return fetch(new URL(target.pathname + target.search, server.origin), init);
  };
}

export interface TestKey {
  keyPair: CryptoKeyPair;
  jwk: JWK;
  /** RFC 7638 SHA-256 thumbprint, computed here from the public key. */
  jkt: string;
}

export async function newKey(alg = 'ES256'): Promise<TestKey> {
  const keyPair = await oauth.generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(keyPair.publicKey);
  return { keyPair, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

/** A public client registered by the operator, for the authorization code grant with refresh. */
export async function publicClient(server: DpopTestServer, over: Partial<ClientRecord> = {}): Promise<oauth.Client> {
  const record = await registerPublicClient(server.storage, { redirectUris: [REDIRECT] });
  if (Object.keys(over).length > 0) {
    await server.storage.clients.remove(record.clientId);
    await server.storage.clients.create({ ...record, ...over });
  }
  return { client_id: record.clientId, token_endpoint_auth_method: 'none' };
}

/** A confidential client with a secret; `grantTypes` decide what it may do. */
export async function confidentialClient(server: DpopTestServer, grantTypes: string[]): Promise<{ client: oauth.Client; auth: oauth.ClientAuth; secret: string }> {
  const secret = 'pcs_' + randomBytes(24).toString('base64url');
  const record = clientRecord({
    secretHash: hashSecret(secret),
    tokenEndpointAuthMethod: 'client_secret_basic',
    grantTypes,
    redirectUris: grantTypes.includes('authorization_code') ? [REDIRECT] : [],
    responseTypes: grantTypes.includes('authorization_code') ? ['code'] : [],
  });
  await server.storage.clients.create(record);
  return { client: { client_id: record.clientId, token_endpoint_auth_method: 'client_secret_basic' }, auth: oauth.ClientSecretBasic(secret), secret };
}

/** Signs in as `E2E_USER` and consents over HTTP; returns the callback parameters (validated by oauth4webapi) and the PKCE verifier. */
export async function authorize(server: DpopTestServer, client: oauth.Client, extra: Record<string, string> = {}): Promise<{ params: URLSearchParams; verifier: string }> {
  const pkce = createPkcePair();
  const state = randomBytes(8).toString('hex');
  const issuer = server.portcullis.ctx.config.issuer;
  const callback = await authorizeWithForms({
    fetch: proxyFetch(server),
    authorizationUrl: authorizationRequestUrl(issuer, {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      scope: 'tasks:read offline_access',
      resource: `${issuer}/mcp`,
      state,
      ...extra,
    }),
    ...E2E_USER,
  });
  return { params: oauth.validateAuthResponse(server.as, client, callback, state), verifier: pkce.verifier };
}

/**
 * Runs a token request as a client library is meant to (RFC 9449 §8): on `use_dpop_nonce` the DPoP
 * handle has taken the nonce from `DPoP-Nonce`, and the request is made once more with it.
 */
export async function withNonceRetry<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!oauth.isDPoPNonceError(error)) throw error;
    return attempt();
  }
}

/** The OAuth error code a token request was refused with, as oauth4webapi reports it. */
export async function refusedWith(request: Promise<unknown>): Promise<string> {
  const error = await request.then(
    () => assert.fail('the request must be refused'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof oauth.ResponseBodyError, `an OAuth error response, not ${String(error)}`);
  return error.error;
}

export const claimsOf = (accessToken: string) => decodeJwt(accessToken) as { cnf?: { jkt?: string }; client_id?: string; gid?: string };

/** A DPoP proof made by hand: what a library would send, with `claims` overriding it. */
export async function handProof(key: TestKey, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ htm: 'POST', iat: Math.floor(Date.now() / 1000), jti: randomBytes(12).toString('base64url'), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
    .sign(key.keyPair.privateKey);
}

/** A client_credentials request over the socket with a hand-made `DPoP` header (or none). */
export async function rawClientCredentials(server: DpopTestServer, client: { client: oauth.Client; secret: string }, proof: string | null, extra: Record<string, string> = {}): Promise<Response> {
  const headers: Record<string, string> = {
    ...extra,
    'Content-Type': 'application/x-www-form-urlencoded',
    Authorization: 'Basic ' + Buffer.from(`${client.client.client_id}:${client.secret}`).toString('base64'),
  };
  if (proof !== null) headers['DPoP'] = proof;
  return fetch(new URL('/token', server.origin), { method: 'POST', headers, body: new URLSearchParams({ grant_type: 'client_credentials' }) });
}

/** How a token request goes out: straight to the test server, or `through(server)` one of several instances. */
type RequestOptions = ReturnType<typeof through> | typeof INSECURE;
const withKey = (options: RequestOptions, DPoP: oauth.DPoPHandle | undefined) => ({ ...options, ...(DPoP ? { DPoP } : {}) });

/** Redeems a code from `authorize` with oauth4webapi, with a proof when `DPoP` is given. */
export async function redeemCode(
  server: DpopTestServer,
  client: oauth.Client,
  auth: oauth.ClientAuth,
  code: { params: URLSearchParams; verifier: string },
  DPoP?: oauth.DPoPHandle,
  options: RequestOptions = INSECURE,
): Promise<oauth.TokenEndpointResponse> {
  const response = await oauth.authorizationCodeGrantRequest(server.as, client, auth, code.params, REDIRECT, code.verifier, withKey(options, DPoP));
  return oauth.processAuthorizationCodeResponse(server.as, client, response);
}

export async function refreshWith(
  server: DpopTestServer,
  client: oauth.Client,
  auth: oauth.ClientAuth,
  refreshToken: string,
  DPoP?: oauth.DPoPHandle,
  options: RequestOptions = INSECURE,
): Promise<oauth.TokenEndpointResponse> {
  const response = await oauth.refreshTokenGrantRequest(server.as, client, auth, refreshToken, withKey(options, DPoP));
  return oauth.processRefreshTokenResponse(server.as, client, response);
}

export async function clientCredentials(
  server: DpopTestServer,
  client: oauth.Client,
  auth: oauth.ClientAuth,
  DPoP?: oauth.DPoPHandle,
  options: RequestOptions = INSECURE,
): Promise<oauth.TokenEndpointResponse> {
  const response = await oauth.clientCredentialsGrantRequest(server.as, client, auth, {}, withKey(options, DPoP));
  return oauth.processClientCredentialsResponse(server.as, client, response);
}
