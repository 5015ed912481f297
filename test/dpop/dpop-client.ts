import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, DpopSession, generateDpopKeyPair, StreamableHTTPClientTransport, withDpop, type DpopKeyPair } from '@modelcontextprotocol/client';
import { SignJWT } from 'jose';
import { accessTokenHash } from '../../src/dpop/proof.ts';
import { parseChallenge } from '../resource/fixtures.ts';

/**
 * The client side of DPoP for resource-server tests: the MCP SDK's own `DpopSession` and `withDpop`
 * (an implementation not written here) for the clients that behave, and proofs signed with jose by
 * the same key for the ones that do not (stale `iat`, wrong `htu`, no `ath`, …).
 */

/** A client's DPoP key: the SDK session that signs its good proofs, and the key pair, to craft bad ones. */
export interface DpopClientKey {
  session: DpopSession;
  keyPair: DpopKeyPair;
  /** RFC 7638 thumbprint: the `cnf.jkt` a token bound to this key carries. */
  jkt: string;
}

export async function createDpopClientKey(): Promise<DpopClientKey> {
  const keyPair = await generateDpopKeyPair();
  return { session: await DpopSession.create({ keyPair }), keyPair, jkt: keyPair.thumbprint };
}

export interface ProofClaims {
  htu: string;
  htm?: string;
  /** The token whose hash goes in `ath`; `ath` overrides it (null: no `ath` at all). */
  accessToken?: string;
  ath?: string | null;
  /** Seconds since the epoch; default now. */
  iat?: number;
  jti?: string;
  nonce?: string;
}

/** A proof as a client makes one, but with any claim chosen by the test. */
export async function craftProof(key: DpopClientKey, claims: ProofClaims): Promise<string> {
  const ath = claims.ath === undefined ? (claims.accessToken !== undefined ? accessTokenHash(claims.accessToken) : undefined) : claims.ath;
  return new SignJWT({
    htm: claims.htm ?? 'POST',
    htu: claims.htu,
    iat: claims.iat ?? Math.floor(Date.now() / 1000),
    jti: claims.jti ?? randomUUID(),
    ...(ath !== null && ath !== undefined ? { ath } : {}),
    ...(claims.nonce !== undefined ? { nonce: claims.nonce } : {}),
  })
    .setProtectedHeader({ alg: key.keyPair.alg, typ: 'dpop+jwt', jwk: key.keyPair.publicJwk })
    .sign(key.keyPair.privateKey);
}

/** `Authorization: DPoP <token>` and the proof (RFC 9449 §7.1). */
export function dpopAuth(token: string, proof: string): Record<string, string> {
  return { Authorization: `DPoP ${token}`, DPoP: proof };
}

/** The official MCP SDK client, presenting `token` with DPoP proofs by `session` (nonce challenges retried by the SDK). */
export async function connectWithDpop(mcpUrl: string, key: DpopClientKey, token: string, fetchImpl: typeof fetch = fetch): Promise<Client> {
  const client = new Client({ name: 'dpop-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { fetch: withDpop(key.session, async () => token)(fetchImpl) });
  await client.connect(transport);
  return client;
}

/**
 * RFC 9449 §7.1: a `DPoP` challenge with this error, naming the proof algorithms, and still
 * `resource_metadata` so an MCP client finds the PRM. Returns its parameters.
 */
export async function assertDpopChallenge(response: Response, error: string | undefined, status = 401): Promise<Record<string, string>> {
  assert.equal(response.status, status, `status for ${error ?? 'no credentials'}`);
  const { scheme, params } = parseChallenge(response.headers.get('WWW-Authenticate'));
  assert.equal(scheme, 'DPoP');
  assert.equal(params['error'], error);
  assert.match(params['algs'] ?? '', /\bES256\b/);
  assert.match(params['resource_metadata'] ?? '', /\/\.well-known\/oauth-protected-resource/);
  await response.body?.cancel();
  return params;
}
