import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { E2E_USER, InMemoryOAuthProvider, startRealServer, type RealServer } from '../helpers/e2e.ts';
import { authorizeWithForms, cookieJar } from '../helpers/oauth-flow.ts';

/**
 * Issue 14 part 1: many clients (Claude Code among them) never step up after a 403. With the default
 * configuration (defaultScopes unset), the first 401 challenge names every declared scope, so the
 * official SDK client asks for them on its first authorization and can call a write tool at once.
 * Real sockets, the real pages, the SDK v2 client.
 */
describe('RS-04 by default the first challenge covers every scope the tools need: a client that never steps up can use the write tools', () => {
  let real: RealServer;
  const provider = new InMemoryOAuthProvider();
  let client: Client | undefined;

  before(async () => {
    real = await startRealServer();
  });
  after(async () => {
    await client?.close().catch(() => {});
    await real.close();
  });

  it('authorizes once with the challenge scope and calls create_task without a second authorization', async () => {
    const connect = () => new StreamableHTTPClientTransport(new URL(`${real.origin}/mcp`), { authProvider: provider });
    let transport = connect();
    await assert.rejects(new Client({ name: 'never-steps-up', version: '1.0.0' }).connect(transport), (e: unknown) => e instanceof UnauthorizedError);
    assert.equal(provider.authorizationUrls.length, 1);
    const requested = provider.authorizationUrls[0]!.searchParams.get('scope')?.split(' ') ?? [];
    assert.ok(requested.includes('tasks:read') && requested.includes('tasks:write'), `the first challenge asked for: ${requested.join(' ')}`);

    const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl: provider.authorizationUrls[0]!, username: E2E_USER.username, password: E2E_USER.password, jar: cookieJar() });
    assert.equal(callback.searchParams.get('error'), null, callback.href);
    await transport.finishAuth(callback.searchParams);

    transport = connect();
    client = new Client({ name: 'never-steps-up', version: '1.0.0' });
    await client.connect(transport);
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('create_task'), `write tools are listed: ${names.join(' ')}`);
    const created = await client.callTool({ name: 'create_task', arguments: { title: 'Buy milk' } });
    assert.equal(created.isError, undefined);
    assert.equal((created.structuredContent as { task: { title: string } }).task.title, 'Buy milk');
    assert.equal(provider.authorizationUrls.length, 1, 'no second authorization was needed');
  });
});
