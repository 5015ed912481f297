import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { signIn } from '../resource/fixtures.ts';

/**
 * The 2025-era path with the v1 SDK client, which most deployed MCP clients (mcp-remote, the MCP
 * Inspector, many IDEs) are built on. Each protocol version is forced by rewriting the version the
 * client proposes in `initialize`, as an older client would send it.
 */
for (const version of ['2025-11-25', '2025-06-18', '2025-03-26']) {
  describe(`v1 SDK client, protocol ${version}`, () => {
    let t: TestApp;
    const clients: Client[] = [];
    before(async () => {
      t = await createTestApp();
    });
    after(async () => {
      for (const c of clients) await c.close();
      await t.close();
    });

    const connect = async (token: string) => {
      const proposing: typeof fetch = async (input, init) => {
        let body = init?.body;
        if (typeof body === 'string' && body.includes('"initialize"')) body = body.replace(/"protocolVersion":"[^"]+"/, `"protocolVersion":"${version}"`);
        return t.app.fetch(new Request(input as string | URL, { ...init, body }));
      };
      const transport = new StreamableHTTPClientTransport(new URL(t.ctx.config.resource), {
        fetch: proposing,
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      });
      const client = new Client({ name: 'v1-client', version: '1' });
      await client.connect(transport);
      clients.push(client);
      return { client, transport };
    };

    it(`RS-21/RS-22 connects in a session at ${version}, lists and calls tools`, async () => {
      const who = await signIn(t, { username: `v1-${version}`, scopes: ['tasks:write'] });
      const { client, transport } = await connect(who.token);
      assert.equal(transport.protocolVersion, version);
      assert.ok(transport.sessionId);
      assert.equal((await client.listTools()).tools.length, 5);
      const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as Record<string, unknown>;
      assert.equal(me['username'], `v1-${version}`);
      const created = await client.callTool({ name: 'create_task', arguments: { title: 'From v1' } });
      assert.equal(created.isError, undefined);
    });

    it('RS-12 a call without the scope is refused with HTTP 403 insufficient_scope', async () => {
      const who = await signIn(t, { scopes: ['tasks:read'] });
      const { client } = await connect(who.token);
      await assert.rejects(client.callTool({ name: 'create_task', arguments: { title: 'nope' } }), /403|insufficient_scope/);
      assert.deepEqual(await t.ctx.storage.tasks.list(who.user.id), []);
    });
  });
}
