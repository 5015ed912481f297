import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { POLICY_DENIED_CODE } from '../../src/policy/enforce.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { connectClient, post, toolCallMessage } from '../mcp/wire.ts';
import { parseChallenge, signIn } from '../resource/fixtures.ts';

/**
 * Tool policy in the built-in MCP server (issue 14 part 4), through the endpoint every request
 * takes: local accounts' groups, the tools' own scopes, wildcards, list filtering, and the
 * 2026-07-28 routing headers checked first (part 5). Official SDK client, both protocol eras.
 */

const PRM_URL = 'http://localhost:3000/.well-known/oauth-protected-resource/mcp';
const names = async (client: Client) => (await client.listTools()).tools.map((t) => t.name).sort();

for (const era of ['legacy', 'modern'] as const) {
  describe(`built-in server tool policy (${era === 'legacy' ? '2025-era session' : '2026-07-28'})`, () => {
    let t: TestApp;
    const clients: Client[] = [];
    const connect = async (token: string) => {
      const { client } = await connectClient(t, token, era);
      clients.push(client);
      return client;
    };
    before(async () => {
      t = await createTestApp({ toolPolicy: { rules: [{ tools: ['delete_*', 'complete_*'], groups: ['admins'] }] } });
    });
    after(async () => {
      for (const c of clients) await c.close();
      await t.close();
    });

    it('SEP-1881 tools/list hides what the tools\' scopes and the group rule forbid; a group given later shows at once', async () => {
      const who = await signIn(t, { scopes: ['tasks:write'] });
      const client = await connect(who.token);
      assert.deepEqual(await names(client), ['create_task', 'list_tasks', 'whoami']);
      await t.storage.users.setGroups(who.user.id, ['admins']);
      assert.deepEqual(await names(client), ['complete_task', 'create_task', 'delete_task', 'list_tasks', 'whoami'], 'same token, same session');
    });

    it('a call no scope would allow (not in the group): a plain MCP error the SDK client raises, not a 403; nothing deleted', async () => {
      const who = await signIn(t, { scopes: ['tasks:write'] });
      const client = await connect(who.token);
      const created = (await client.callTool({ name: 'create_task', arguments: { title: 'keep me' } })).structuredContent as { task: { id: string } };
      await assert.rejects(client.callTool({ name: 'delete_task', arguments: { id: created.task.id } }), (error: { code?: number; message?: string }) => {
        assert.equal(error.code, POLICY_DENIED_CODE);
        assert.match(error.message ?? '', /may not use the tool "delete_task"/);
        return true;
      });
      assert.equal((await t.storage.tasks.list(who.user.id)).length, 1, 'nothing was deleted');
    });

    it('RS-12 a call more scope would allow: 403 insufficient_scope naming every scope it needs', async () => {
      const who = await signIn(t, { scopes: ['tasks:read'] });
      await t.storage.users.setGroups(who.user.id, ['admins']);
      const response = await post(t, toolCallMessage('delete_task', { id: 'x' }), who.auth);
      assert.equal(response.status, 403);
      const { params } = parseChallenge(response.headers.get('WWW-Authenticate'));
      assert.deepEqual([params['error'], params['scope'], params['resource_metadata']], ['insufficient_scope', 'tasks:write', PRM_URL]);
    });
  });
}

describe('built-in server: routing headers and policy settings', () => {
  it('2026-07-28 Mcp-Name naming an allowed tool while the body calls a forbidden one: 400 -32020, before the policy', async () => {
    const t = await createTestApp({ toolPolicy: { rules: [{ tools: ['delete_*'], groups: ['admins'] }] } });
    try {
      const who = await signIn(t, { scopes: ['tasks:write'] });
      const headers = { ...who.auth, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'whoami' };
      const response = await post(t, toolCallMessage('delete_task', { id: 'x' }), headers);
      assert.equal(response.status, 400);
      const body = await response.json();
      assert.equal(body.error.code, -32020);
      assert.match(body.error.message, /Mcp-Name/);
      const method = await post(t, toolCallMessage('whoami'), { ...who.auth, 'Mcp-Method': 'tools/list' });
      assert.equal(method.status, 400, 'Mcp-Method disagreeing with the body');
    } finally {
      await t.close();
    }
  });

  it('filterLists off: tools/list shows every tool again; calls are still decided', async () => {
    const t = await createTestApp({ toolPolicy: { filterLists: false, rules: [{ tools: ['delete_*'], groups: ['admins'] }] } });
    try {
      const who = await signIn(t, { scopes: [] });
      const { client } = await connectClient(t, who.token, 'modern');
      assert.deepEqual(await names(client), ['complete_task', 'create_task', 'delete_task', 'list_tasks', 'whoami']);
      const denied = await post(t, toolCallMessage('delete_task', { id: 'x' }), { ...who.auth, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'delete_task' });
      assert.equal((await denied.json()).error?.code, POLICY_DENIED_CODE);
      await client.close();
    } finally {
      await t.close();
    }
  });

  it('default deny: only the tools a rule names are listed and callable', async () => {
    const t = await createTestApp({ toolPolicy: { default: 'deny', rules: [{ tools: ['whoami', 'list_*'], scopes: ['tasks:read'] }] } });
    try {
      const who = await signIn(t, { scopes: ['tasks:write'] });
      const { client } = await connectClient(t, who.token, 'modern');
      assert.deepEqual(await names(client), ['list_tasks', 'whoami']);
      await assert.rejects(client.callTool({ name: 'create_task', arguments: { title: 'x' } }), (e: { code?: number }) => e.code === POLICY_DENIED_CODE);
      assert.equal((await t.storage.tasks.list(who.user.id)).length, 0);
      await client.close();
    } finally {
      await t.close();
    }
  });

  it('RS-04 a 401 for a tools/call names the scopes the policy\'s rules require of that tool too', async () => {
    const t = await createTestApp({ toolPolicy: { rules: [{ tools: ['who*'], scopes: ['tasks:write'] }] } });
    try {
      const response = await post(t, toolCallMessage('whoami'));
      assert.equal(response.status, 401);
      assert.deepEqual(parseChallenge(response.headers.get('WWW-Authenticate')).params['scope']?.split(' ').sort(), ['tasks:read', 'tasks:write']);
    } finally {
      await t.close();
    }
  });

  it('a rule naming a scope the server does not offer is refused at start', async () => {
    await assert.rejects(createTestApp({ toolPolicy: { rules: [{ tools: ['*'], scopes: ['nonexistent'] }] } }), /toolPolicy\.rules\.0\.scopes: nonexistent/);
  });
});
