import assert from 'node:assert/strict';
import { createResourceServer, type ResourceServer } from '../../src/resource/resource-server.ts';
import { parseChallenge } from '../resource/fixtures.ts';
import { createTestIssuer, type TestIssuer } from '../resource/test-issuer.ts';

/**
 * What every adapter test needs: a third-party authorization server issuing tokens for
 * `http://127.0.0.1/mcp` (any port: the resource URL only names the PRM), and a resource server
 * requiring `tasks:read` on every request. Each adapter mounts `/mcp` (needs `tasks:read`) and
 * `/mcp/admin` (needs `tasks:write` too) answering `{ subject, scopes }`.
 */
export async function adapterSetup(): Promise<{ as: TestIssuer; rs: ResourceServer; reader: string; writer: string }> {
  const as = await createTestIssuer({ resource: 'http://127.0.0.1/mcp' });
  const rs = createResourceServer({ resource: as.resource, authorizationServers: [as.issuer], verifier: as.verifier(), scopesSupported: ['tasks:read', 'tasks:write'], requiredScopes: ['tasks:read'] });
  return { as, rs, reader: await as.sign({ claims: { scope: 'tasks:read' } }), writer: await as.sign({ claims: { scope: 'tasks:read tasks:write' } }) };
}

export const PRM_URL = 'http://127.0.0.1/.well-known/oauth-protected-resource/mcp';

/** The three calls every adapter must answer alike. `call(path, headers)` reaches the adapter's app. */
export async function assertAdapterBehaviour(call: (path: string, headers?: Record<string, string>) => Promise<Response>, tokens: { reader: string; writer: string }): Promise<void> {
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
