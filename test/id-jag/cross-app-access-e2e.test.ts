import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, CrossAppAccessProvider, StreamableHTTPClientTransport, type CrossAppAccessContext } from '@modelcontextprotocol/client';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { JWT_BEARER, keyPair, signJwt, storeClient, type KeyPair, type StoredClient } from '../client-auth/helpers.ts';

const IDP = 'https://login.corp.example';

/**
 * Enterprise-managed authorization end to end with the official SDK client's CrossAppAccessProvider:
 * the client meets a 401, discovers the PRM and our metadata, asks its enterprise IdP (here an
 * in-test IdP that signs ID-JAGs with a real key) for an ID-JAG for our issuer and resource, exchanges
 * it at /token with its client secret, and calls a tool as the employee the IdP named.
 */
describe('E2E enterprise-managed authorization with the official SDK CrossAppAccessProvider', () => {
  let t: TestApp;
  let idp: KeyPair;
  let client: StoredClient;
  const asked: CrossAppAccessContext[] = [];

  before(async () => {
    idp = await keyPair('ES256', 'corp-2026');
    t = await createTestApp({ trustedIdentityProviders: [{ issuer: IDP, jwks: { keys: [idp.publicJwk] } }] });
    client = await storeClient(t, { grantTypes: [JWT_BEARER] });
  });
  after(() => t.close());

  /** The enterprise IdP's side of RFC 8693 token exchange, reduced to what it signs. */
  async function idpIssuesIdJag(context: CrossAppAccessContext): Promise<string> {
    asked.push(context);
    return signJwt(
      { iss: IDP, sub: 'emp-1001', email: 'erin@corp.example', aud: context.authorizationServerUrl, client_id: client.client.clientId, resource: context.resourceUrl, scope: 'tasks:read' },
      { key: idp, header: { typ: 'oauth-id-jag+jwt' }, now: t.clock.now() },
    );
  }

  it('EMA-01..EMA-08 401 → PRM → metadata → ID-JAG → /token → tool call as the employee, limited to the ID-JAG scopes', async () => {
    const provider = new CrossAppAccessProvider({
      assertion: idpIssuesIdJag,
      clientId: client.client.clientId,
      clientSecret: client.secret!,
      expectedIssuer: t.ctx.config.issuer,
    });
    const fetchInProcess: typeof fetch = async (input, init) => t.app.fetch(new Request(input as string | URL, init));
    const mcp = new Client({ name: 'enterprise-agent', version: '1' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(t.ctx.config.resource), { authProvider: provider, fetch: fetchInProcess }));
    try {
      assert.equal(asked.length, 1);
      assert.equal(asked[0]!.resourceUrl, t.ctx.config.resource, 'the SDK found our resource in the PRM');
      const result = (await mcp.callTool({ name: 'whoami', arguments: {} })) as { content: { text: string }[] };
      const who = JSON.parse(result.content[0]!.text) as Record<string, unknown>;
      assert.equal(who.subjectType, 'user');
      assert.equal(who.username, 'erin@corp.example');
      assert.equal(who.clientId, client.client.clientId);
      assert.deepEqual(who.scopes, ['tasks:read']);
      const tasks = (await mcp.callTool({ name: 'list_tasks', arguments: {} })) as { isError?: boolean };
      assert.notEqual(tasks.isError, true, 'tasks:read was granted');
    } finally {
      await mcp.close();
    }
  });
});
