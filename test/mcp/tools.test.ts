import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { signIn } from '../resource/fixtures.ts';
import { connectClient } from './wire.ts';

type Result = Awaited<ReturnType<Client['callTool']>>;
const data = (r: Result) => r.structuredContent as Record<string, any>;
const text = (r: Result) => (r.content as Array<{ type: string; text: string }>)[0]?.text ?? '';

for (const era of ['legacy', 'modern'] as const) {
  describe(`Built-in tools over the official SDK client (${era === 'legacy' ? '2025-era session' : '2026-07-28, sessionless'})`, () => {
    let t: TestApp;
    const clients: Client[] = [];
    const connect = async (token: string) => {
      const { client } = await connectClient(t, token, era);
      clients.push(client);
      return client;
    };
    before(async () => {
      t = await createTestApp();
    });
    after(async () => {
      for (const c of clients) await c.close();
      await t.close();
    });

    it('SEP-1881 tools/list lists only the tools the token may call (toolPolicy.filterLists, on by default)', async () => {
      const who = await signIn(t, { scopes: [] });
      const { client, transport } = await connectClient(t, who.token, era);
      clients.push(client);
      assert.equal(transport.sessionId !== undefined, era === 'legacy', 'the era under test is the one in use');
      assert.deepEqual((await client.listTools()).tools.map((x) => x.name), ['whoami']);
      const reader = await connect((await signIn(t, { scopes: ['tasks:read'] })).token);
      assert.deepEqual((await reader.listTools()).tools.map((x) => x.name).sort(), ['list_tasks', 'whoami']);
      const writer = await connect((await signIn(t, { scopes: ['tasks:write'] })).token);
      assert.deepEqual((await writer.listTools()).tools.map((x) => x.name).sort(), ['complete_task', 'create_task', 'delete_task', 'list_tasks', 'whoami'], 'tasks:write implies tasks:read');
    });

    it('whoami reports the subject, username, client and scopes from the token', async () => {
      const who = await signIn(t, { username: 'whoami-' + era, scopes: ['tasks:read'] });
      const result = await (await connect(who.token)).callTool({ name: 'whoami', arguments: {} });
      assert.deepEqual(data(result), { subject: who.user.id, subjectType: 'user', username: 'whoami-' + era, clientId: who.clientId, scopes: ['tasks:read'] });
    });

    it('tasks are per user: one user never sees, completes or deletes another user\'s task', async () => {
      const alice = await connect((await signIn(t, { scopes: ['tasks:write'] })).token);
      const bob = await connect((await signIn(t, { scopes: ['tasks:write'] })).token);
      const created = data(await alice.callTool({ name: 'create_task', arguments: { title: '  Water the plants  ' } }));
      assert.equal(created['task'].title, 'Water the plants');
      const id = created['task'].id as string;

      assert.deepEqual(data(await bob.callTool({ name: 'list_tasks', arguments: {} })), { tasks: [] });
      const complete = await bob.callTool({ name: 'complete_task', arguments: { id } });
      assert.equal(complete.isError, true);
      assert.equal(text(complete), `You have no task with id ${id}.`);
      assert.equal((await bob.callTool({ name: 'delete_task', arguments: { id } })).isError, true);

      const mine = data(await alice.callTool({ name: 'list_tasks', arguments: {} }))['tasks'];
      assert.equal(mine.length, 1);
      assert.equal(mine[0].done, false, "bob's attempt changed nothing");
    });

    it('create, complete and delete a task', async () => {
      const client = await connect((await signIn(t, { scopes: ['tasks:write'] })).token);
      const id = data(await client.callTool({ name: 'create_task', arguments: { title: 'Ship it' } }))['task'].id;
      const done = data(await client.callTool({ name: 'complete_task', arguments: { id } }))['task'];
      assert.equal(done.done, true);
      assert.equal(done.completedAt, new Date(t.clock.now()).toISOString());
      assert.deepEqual(data(await client.callTool({ name: 'delete_task', arguments: { id } })), { deleted: id });
      assert.deepEqual(data(await client.callTool({ name: 'list_tasks', arguments: {} })), { tasks: [] });
    });

    it('bad tool input is a tool error result, not an HTTP or protocol error, and changes nothing', async () => {
      const who = await signIn(t, { scopes: ['tasks:write'] });
      const client = await connect(who.token);
      for (const args of [{}, { title: '' }, { title: '   ' }, { title: 'x'.repeat(501) }, { title: 42 }]) {
        const result = await client.callTool({ name: 'create_task', arguments: args });
        assert.equal(result.isError, true, JSON.stringify(args));
        assert.match(text(result), /title/);
      }
      assert.equal((await client.callTool({ name: 'complete_task', arguments: {} })).isError, true);
      assert.equal((await client.callTool({ name: 'delete_task', arguments: { id: '' } })).isError, true);
      assert.deepEqual(await t.ctx.storage.tasks.list(who.user.id), []);
      assert.equal((await client.callTool({ name: 'create_task', arguments: { title: 'x'.repeat(500) } })).isError, undefined, '500 characters is fine');
    });
  });
}
