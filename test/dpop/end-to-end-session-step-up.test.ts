/**
 * RFC 9449 §7.1 end to end with the rest of what an MCP client does: a 2025-era session (its GET
 * stream and its DELETE carry proofs for their own method) and a scope step-up (MCP RS-12: a 403
 * `insufficient_scope` in a DPoP challenge, a new authorization, a new code redeemed with a proof).
 * The official MCP SDK client with its own DPoP, against a real Portcullis on loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DpopSession, UnauthorizedError } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { startRealServer, type RealServer } from '../helpers/e2e.ts';
import { SdkClient } from './sdk-client.ts';

describe('RFC 9449 §7.1 with the MCP SDK client: a 2025-era session and a scope step-up (RS-12)', () => {
  let real: RealServer;
  let session: DpopSession;
  let sdk: SdkClient;

  before(async () => {
    // Read-only first grants, so the client must step up to write.
    real = await startRealServer({ defaultScopes: ['tasks:read'] });
    session = await DpopSession.create();
    sdk = new SdkClient(`${real.origin}/mcp`, { dpop: session, era: 'legacy' });
  });
  after(async () => {
    await sdk.client?.close().catch(() => {});
    await real.close();
  });

  const methodsOfProofs = () => new Set(sdk.exchanges.filter((e) => e.url.pathname === '/mcp' && e.proof).map((e) => `${e.method}:${(decodeJwt(e.proof!) as { htm?: string }).htm}`));

  it('signs in, opens a session and calls a tool; every MCP request, the GET stream included, has a proof for its method', async () => {
    await sdk.signIn();
    assert.ok(sdk.transport?.sessionId, 'a 2025-era session');
    const me = await sdk.whoami();
    const scopes = me['scopes'] as string[];
    assert.ok(scopes.includes('tasks:read') && !scopes.includes('tasks:write'), scopes.join(' '));
    assert.ok(methodsOfProofs().has('GET:GET'), `the session's GET stream went out with a proof:\n${sdk.trace()}`);
    for (const pair of methodsOfProofs()) {
      const [method, htm] = pair.split(':');
      assert.equal(htm, method, `htm matches the request method (${pair})`);
    }
  });

  it('RS-12: a tasks:write tool is refused 403 in a DPoP challenge; the SDK steps up, redeems the new code with a proof, and the call succeeds', async () => {
    const token = sdk.accessToken;
    await assert.rejects(sdk.client!.callTool({ name: 'create_task', arguments: { title: 'Buy milk' } }), (e: unknown) => e instanceof UnauthorizedError);
    const forbidden = sdk.exchanges.find((e) => e.url.pathname === '/mcp' && e.status === 403);
    assert.equal(forbidden?.error, 'insufficient_scope', sdk.trace());
    assert.match(forbidden.challenge ?? '', /^DPoP /, 'the challenge names the scheme the token is used with');
    const scopes = sdk.provider.authorizationUrls.at(-1)!.searchParams.get('scope')?.split(' ') ?? [];
    assert.ok(scopes.includes('tasks:write'), scopes.join(' '));

    await sdk.transport!.finishAuth(await sdk.authorizeInBrowser());
    const created = await sdk.client!.callTool({ name: 'create_task', arguments: { title: 'Buy milk' } });
    assert.equal(((created.structuredContent as { task: { title: string } }).task).title, 'Buy milk');
    assert.notEqual(sdk.accessToken, token);
    assert.equal(sdk.provider.tokenSet?.token_type.toLowerCase(), 'dpop');
    assert.equal(sdk.claims.cnf?.jkt, session.thumbprint, 'the stepped-up token is bound to the same key');
  });

  it('closing the session sends DELETE with a proof for DELETE, and the server ends it', async () => {
    const sessionId = sdk.transport!.sessionId;
    await sdk.transport!.terminateSession();
    const deleted = sdk.exchanges.find((e) => e.method === 'DELETE' && e.url.pathname === '/mcp');
    assert.ok(deleted?.proof, sdk.trace());
    assert.equal((decodeJwt(deleted.proof) as { htm?: string }).htm, 'DELETE');
    assert.ok(deleted.status === 200 || deleted.status === 204, `DELETE answered ${deleted.status}`);
    assert.equal(deleted.authorization, `DPoP ${sdk.accessToken}`);
    assert.ok(sessionId);
  });
});
