import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import type { TestApp } from '../helpers/app.ts';
import { initializeMessage, inSession, openLegacySession, post, rpcResult } from '../mcp/wire.ts';
import { appFetch, connectWithToken, createGatewayApp, eventually, isRunning, signInToGateway, stdioFixtureCommand } from './helpers.ts';

/**
 * Issue 4, part 1: `--upstream-command`, a stdio MCP server (official SDK, run as a script) started
 * once per MCP session behind the gateway, and stopped when the session ends.
 */

const FIXTURE_KEY = 'fixture-key-0123456789';
const GATEWAY_SECRET = 'gateway-only-secret-value';
const textOf = (result: { content?: unknown }) => ((result.content as Array<{ text?: string }> | undefined)?.[0]?.text ?? '');

describe('gateway → stdio upstream', () => {
  let t: TestApp;
  const clients: Client[] = [];
  const saved = { key: process.env['FIXTURE_API_KEY'], secret: process.env['PORTCULLIS_TEST_GATEWAY_SECRET'] };

  before(() => {
    process.env['FIXTURE_API_KEY'] = FIXTURE_KEY;
    process.env['PORTCULLIS_TEST_GATEWAY_SECRET'] = GATEWAY_SECRET;
  });
  after(() => {
    for (const [name, value] of [['FIXTURE_API_KEY', saved.key], ['PORTCULLIS_TEST_GATEWAY_SECRET', saved.secret]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  beforeEach(async () => {
    t = await createGatewayApp({ command: stdioFixtureCommand(), passEnv: ['FIXTURE_API_KEY'] });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
    await t.close();
  });

  const connect = async (token: string, era: 'legacy' | 'modern' = 'legacy') => {
    const connected = await connectWithToken(t.ctx.config.resource, token, { era, fetch: appFetch(t) });
    clients.push(connected.client);
    return connected;
  };
  const pidOf = async (client: Client) => Number(textOf(await client.callTool({ name: 'pid', arguments: {} })));

  it("issue 4: the stdio server's tools replace the built-in ones, and calls work", async () => {
    const who = await signInToGateway(t);
    const { client, transport } = await connect(who.token);
    assert.match(transport.sessionId ?? '', /^[A-Za-z0-9_-]{43}$/, 'RS-22 a CSPRNG session id');
    const names = (await client.listTools()).tools.map((tool) => tool.name).sort();
    assert.deepEqual(names, ['burst', 'crash', 'echo', 'env_names', 'hold', 'pid', 'release', 'slow']);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'over stdio' } })), 'echo: over stdio');
  });

  it('a 2026-07-28 client is told only 2025 revisions are served here, falls back to a session, and works', async () => {
    const who = await signInToGateway(t);
    const { client, transport } = await connect(who.token, 'modern');
    assert.ok(transport.sessionId, 'negotiated down to a 2025-era session');
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'negotiated' } })), 'echo: negotiated');
  });

  it('one process per MCP session, started with a minimal environment: none of the gateway\'s secrets, plus what passEnv names', async () => {
    const who = await signInToGateway(t);
    const { client: first } = await connect(who.token);
    const { client: second } = await connect(who.token);
    const [a, b] = [await pidOf(first), await pidOf(second)];
    assert.notEqual(a, b);
    assert.ok(isRunning(a) && isRunning(b));
    assert.equal(t.mcp.sessionCount, 2);

    const names = JSON.parse(textOf(await first.callTool({ name: 'env_names', arguments: {} }))) as string[];
    assert.ok(names.includes('FIXTURE_API_KEY'), 'passEnv is passed');
    assert.ok(names.includes('PATH'));
    assert.ok(!names.includes('PORTCULLIS_TEST_GATEWAY_SECRET'), "the gateway's own variables are not");
    const allowed = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TMPDIR', 'FIXTURE_API_KEY']);
    assert.deepEqual(names.filter((n) => !allowed.has(n)), []);
  });

  it('DELETE ends the session and stops its process', async () => {
    const who = await signInToGateway(t);
    const { client, transport } = await connect(who.token);
    const pid = await pidOf(client);
    await transport.terminateSession();
    await eventually(() => !isRunning(pid), `process ${pid} stopped`);
    assert.equal(t.mcp.sessionCount, 0);
  });

  it('RS-22 an idle session expires after mcpSessionIdleTtl (ManualClock + sweep) and its process is stopped', async () => {
    const who = await signInToGateway(t);
    // A raw session with no GET stream: an SDK client holds one open, and a live stream is use.
    const idleSession = await openLegacySession(t, who.auth);
    const { client: active } = await connect(who.token);
    const idlePid = Number(textOf((await rpcResult(await post(t, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'pid', arguments: {} } }, inSession(who.auth, idleSession)))).result ?? {}));
    const activePid = await pidOf(active);
    t.clock.advance(40_000);
    await active.callTool({ name: 'echo', arguments: { text: 'still here' } });
    t.clock.advance(20_000);
    assert.equal(await t.mcp.sweep(), 1);
    await eventually(() => !isRunning(idlePid), `idle process ${idlePid} stopped`);
    assert.ok(isRunning(activePid), 'the active session keeps its process');
  });

  it('shutdown (Portcullis close) stops every process before it returns', async () => {
    const who = await signInToGateway(t);
    const pids = [await pidOf((await connect(who.token)).client), await pidOf((await connect(who.token)).client)];
    await t.close();
    for (const pid of pids) assert.equal(isRunning(pid), false, `process ${pid} still running`);
  });

  it('RS-23 another user presenting a session id gets 404; the process stays its owner\'s', async () => {
    const alice = await signInToGateway(t, { username: 'alice' });
    const bob = await signInToGateway(t, { username: 'bob' });
    const { client, transport } = await connect(alice.token);
    const hijack = await post(t, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'pid', arguments: {} } }, inSession(bob.auth, transport.sessionId!));
    assert.equal(hijack.status, 404);
    assert.ok(textOf(await client.callTool({ name: 'echo', arguments: { text: 'mine' } })).includes('mine'));
  });

  it('issue 4: an SSE event reaches the client while the stdio server is still working (nothing is buffered)', async (ctx) => {
    const who = await signInToGateway(t);
    const { client } = await connect(who.token);
    const started = performance.now();
    let held: { content?: unknown } | undefined;
    let progressAt = 0;
    const sawProgress = new Promise<void>((resolve) => {
      void client.callTool({ name: 'hold', arguments: { key: 'stdio' } }, { onprogress: () => ((progressAt ||= performance.now()), resolve()) }).then((r) => (held = r));
    });
    await Promise.race([sawProgress, new Promise((_, reject) => setTimeout(() => reject(new Error('no progress within 10 s')), 10_000).unref())]);
    assert.equal(held, undefined, 'the progress event came while the call was still held');
    await client.callTool({ name: 'release', arguments: { key: 'stdio' } });
    await eventually(() => held !== undefined, 'the held call returned');
    assert.equal(textOf(held!), 'released stdio');
    ctx.diagnostic(`first event after ${(progressAt - started).toFixed(1)} ms`);
  });

  it('a stdio server that dies mid-call: the call gets a JSON-RPC error instead of hanging, and the session is gone (404)', async () => {
    const who = await signInToGateway(t);
    const { client, transport } = await connect(who.token);
    const pid = await pidOf(client);
    await assert.rejects(client.callTool({ name: 'crash', arguments: { code: 7 } }), /upstream MCP server exited/);
    await eventually(() => !isRunning(pid), 'the crashed process is gone');
    const after = await post(t, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, inSession(who.auth, transport.sessionId!));
    assert.equal(after.status, 404);
    assert.ok(t.logger.records().some((r) => r['msg'] === 'upstream MCP server exited' && r['exit'] === 7));
  });

  it('a session whose stdio server crashed leaves the session table at once, freeing its user\'s slot without the idle sweep', async () => {
    const who = await signInToGateway(t);
    const { client: crashing } = await connect(who.token);
    const { client: other } = await connect(who.token);
    const otherPid = await pidOf(other);
    assert.equal(t.mcp.sessionCount, 2);
    await assert.rejects(crashing.callTool({ name: 'crash', arguments: { code: 3 } }), /upstream MCP server exited/);
    await eventually(() => t.mcp.sessionCount === 1, 'the crashed session left the table');
    assert.equal(textOf(await other.callTool({ name: 'echo', arguments: { text: 'unaffected' } })), 'echo: unaffected');
    assert.ok(isRunning(otherPid), "the user's other session keeps its process");
  });

  it("the server's stderr goes to the debug log, with passEnv values and bearer strings masked", async () => {
    const who = await signInToGateway(t);
    await connect(who.token);
    await eventually(() => t.logger.records().some((r) => r['msg'] === 'upstream stderr'), 'stderr logged');
    const line = t.logger.records().find((r) => r['msg'] === 'upstream stderr')!;
    assert.equal(line['level'], 'debug');
    assert.match(String(line['line']), /stdio fixture \d+ starting/);
    assert.match(String(line['line']), /key=\[redacted\]/);
    assert.match(String(line['line']), /Bearer \[redacted\]/);
    assert.ok(!t.logger.lines.some((l) => l.includes(FIXTURE_KEY) || l.includes('abcdefghijklmnop') || l.includes(who.token)));
  });
});

describe('gateway → stdio upstream: failures at start are 502/504, never a hang', () => {
  it('a command that cannot be started → 502', async () => {
    const t = await createGatewayApp({ command: '/nonexistent/portcullis-test/mcp-server --stdio' });
    try {
      const who = await signInToGateway(t);
      const response = await post(t, initializeMessage('i'), who.auth);
      assert.equal(response.status, 502);
      assert.deepEqual(await response.json(), { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Gateway: the upstream MCP server is unavailable.' }, id: 'i' });
      assert.equal(t.mcp.sessionCount, 0);
    } finally {
      await t.close();
    }
  });

  it('a server that exits before answering initialize → 502', async () => {
    const t = await createGatewayApp({ command: stdioFixtureCommand('exit-at-start') });
    try {
      const who = await signInToGateway(t);
      const response = await post(t, initializeMessage(), who.auth);
      assert.equal(response.status, 502);
      assert.equal((await rpcResult(response)).error?.message, 'Bad Gateway: the upstream MCP server exited.');
    } finally {
      await t.close();
    }
  });

  it('a server that never answers initialize → 504 after upstream.timeout, and it is stopped', async () => {
    const t = await createGatewayApp({ command: stdioFixtureCommand('silent'), timeout: 1 });
    try {
      const who = await signInToGateway(t);
      const response = await post(t, initializeMessage(), who.auth);
      assert.equal(response.status, 504);
      assert.equal((await rpcResult(response)).error?.message, 'Gateway Timeout: the upstream MCP server did not answer in time.');
      const started = t.logger.records().find((r) => r['msg'] === 'upstream stderr');
      const pid = Number(/stdio fixture (\d+)/.exec(String(started?.['line']))?.[1]);
      assert.ok(pid > 0, 'the fixture said its pid');
      await eventually(() => !isRunning(pid), 'the silent process was stopped');
    } finally {
      await t.close();
    }
  });
});
