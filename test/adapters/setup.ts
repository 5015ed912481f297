import assert from 'node:assert/strict';
import { createResourceServer, type ResourceServer } from '../../src/resource/resource-server.ts';
import { parseChallenge } from '../resource/fixtures.ts';
import { createTestIssuer, type TestIssuer } from '../resource/test-issuer.ts';
import { assertDpopChallenge, craftProof, createDpopClientKey, dpopAuth, type DpopClientKey } from '../dpop/dpop-client.ts';

/**
 * What every adapter test needs: a third-party authorization server issuing tokens for
 * `http://127.0.0.1/mcp` (any port: the resource URL only names the PRM), and a resource server
 * requiring `tasks:read` on every request. Each adapter mounts `/mcp` (needs `tasks:read`) and
 * `/mcp/admin` (needs `tasks:write` too) answering `{ subject, scopes }`.
 */
export async function adapterSetup(): Promise<{ as: TestIssuer; rs: ResourceServer; reader: string; writer: string; dpop: AdapterDpop }> {
  const as = await createTestIssuer({ resource: 'http://127.0.0.1/mcp' });
  const rs = createResourceServer({ resource: as.resource, authorizationServers: [as.issuer], verifier: as.verifier(), scopesSupported: ['tasks:read', 'tasks:write'], requiredScopes: ['tasks:read'] });
  const key = await createDpopClientKey();
  // RFC 9449 §6.1: the JWT access token names the client's key in cnf.jkt.
  const bound = await as.sign({ claims: { scope: 'tasks:read', cnf: { jkt: key.jkt } } });
  return { as, rs, reader: await as.sign({ claims: { scope: 'tasks:read' } }), writer: await as.sign({ claims: { scope: 'tasks:read tasks:write' } }), dpop: { key, bound } };
}

/** A client's DPoP key and a `tasks:read` token bound to it. */
export interface AdapterDpop {
  key: DpopClientKey;
  bound: string;
}

/** Reaches the adapter's app: `path` with these request headers (POST, or GET for the PRM). */
export type AdapterCall = (path: string, headers?: Record<string, string>) => Promise<Response>;

export const PRM_URL = 'http://127.0.0.1/.well-known/oauth-protected-resource/mcp';

/** The three calls every adapter must answer alike. `call(path, headers)` reaches the adapter's app. */
export async function assertAdapterBehaviour(call: AdapterCall, tokens: { reader: string; writer: string }): Promise<void> {
  const ok = await call('/mcp', { Authorization: `Bearer ${tokens.reader}` });
  assert.equal(ok.status, 200, 'valid token');
  assert.deepEqual(await ok.json(), { subject: 'user-1', scopes: ['tasks:read'] });

  const none = await call('/mcp');
  assert.equal(none.status, 401, 'no token');
  assert.deepEqual(parseChallenge(none.headers.get('WWW-Authenticate')).params, { scope: 'tasks:read', resource_metadata: PRM_URL });
  await none.body?.cancel();

  const invalid = await call('/mcp', { Authorization: 'Bearer not-a-jwt' });
  assert.equal(invalid.status, 401, 'bad token');
  assert.equal(parseChallenge(invalid.headers.get('WWW-Authenticate')).params['error'], 'invalid_token');
  await invalid.body?.cancel();

  const scant = await call('/mcp/admin', { Authorization: `Bearer ${tokens.reader}` });
  assert.equal(scant.status, 403, 'insufficient scope');
  const { params } = parseChallenge(scant.headers.get('WWW-Authenticate'));
  assert.equal(params['error'], 'insufficient_scope');
  assert.equal(params['scope'], 'tasks:read tasks:write');
  await scant.body?.cancel();

  const admin = await call('/mcp/admin', { Authorization: `Bearer ${tokens.writer}` });
  assert.equal(admin.status, 200, 'enough scope');
  await admin.body?.cancel();

  const prm = await call('/.well-known/oauth-protected-resource/mcp');
  assert.equal(prm.status, 200, 'PRM');
  assert.equal(((await prm.json()) as { resource: string }).resource, 'http://127.0.0.1/mcp');
}

/**
 * RFC 9449 §7 through an adapter, which must hand the resource server the request's method and
 * URL: proofs name the resource's origin (the public URL) and the route's path. `call` as above.
 */
export async function assertAdapterDpop(call: AdapterCall, { key, bound }: AdapterDpop): Promise<void> {
  const proof = (path: string, claims: { htm?: string } = {}) => craftProof(key, { htu: `http://127.0.0.1${path}`, accessToken: bound, ...claims });

  const ok = await call('/mcp', dpopAuth(bound, await proof('/mcp')));
  assert.equal(ok.status, 200, 'DPoP-bound token with its proof');
  assert.deepEqual(await ok.json(), { subject: 'user-1', scopes: ['tasks:read'] });

  await assertDpopChallenge(await call('/mcp/admin', dpopAuth(bound, await proof('/mcp'))), 'invalid_dpop_proof');
  await assertDpopChallenge(await call('/mcp', dpopAuth(bound, await proof('/mcp', { htm: 'GET' }))), 'invalid_dpop_proof');
  await assertDpopChallenge(await call('/mcp', { Authorization: `Bearer ${bound}` }), 'invalid_token');
  const params = await assertDpopChallenge(await call('/mcp/admin', dpopAuth(bound, await proof('/mcp/admin'))), 'insufficient_scope', 403);
  assert.equal(params['scope'], 'tasks:read tasks:write');
}
