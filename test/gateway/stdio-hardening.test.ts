import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ChildProcessTransport } from '../../src/gateway/stdio/child-transport.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { initializeMessage, inSession, mcpHeaders, openLegacySession, post } from '../mcp/wire.ts';
import { createGatewayApp, eventually, isRunning, signInToGateway, stdioFixtureCommand } from './helpers.ts';

/** Whether `pid` is a live process (a zombie awaiting its reaper counts as gone). */
function alive(pid: number): boolean {
  if (!isRunning(pid)) return false;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('gateway → stdio upstream: an initialize the transport refuses is the client\'s 4xx', () => {
  const cases: Array<[string, Record<string, string>, unknown, number]> = [
    ['Accept without text/event-stream', { Accept: 'application/json' }, initializeMessage(), 406],
    ['a batch with initialize', {}, [initializeMessage(1), { jsonrpc: '2.0', id: 2, method: 'tools/list' }], 400],
  ];
  for (const [what, headers, body, status] of cases) {
    it(`${what} → ${status} from the transport, not 502 "upstream exited", and no session is left`, async () => {
      const t = await createGatewayApp({ command: stdioFixtureCommand() });
      try {
        const who = await signInToGateway(t);
        const response = await t.request('/mcp', { method: 'POST', headers: { ...mcpHeaders(who.auth), ...headers }, body: JSON.stringify(body) });
        assert.equal(response.status, status, await response.clone().text());
        const message = ((await response.json()) as { error?: { message?: string } }).error?.message ?? '';
        assert.ok(message !== '' && !/upstream/i.test(message), message);
        assert.equal(t.mcp.sessionCount, 0);
      } finally {
        await t.close();
      }
    });
  }
});

describe('gateway → stdio upstream: a live GET stream is use, not idleness', () => {
  it('RS-22 a session whose client holds only its GET stream is not swept while it is open; idle time counts from its end', async () => {
    const t = await createGatewayApp({ command: stdioFixtureCommand() }, { mcpSessionIdleTtl: 60 });
    try {
      const who = await signInToGateway(t);
      const sessionId = await openLegacySession(t, who.auth);
      const stream = await t.request('/mcp', { method: 'GET', headers: { ...inSession(who.auth, sessionId), Accept: 'text/event-stream' } });
      assert.equal(stream.status, 200);

      t.clock.advance(61_000);
      assert.equal(await t.mcp.sweep(), 0, 'the open stream keeps the session');
      await stream.body?.cancel();
      t.clock.advance(30_000);
      assert.equal(await t.mcp.sweep(), 0, 'idle time counts from the end of the stream');
      t.clock.advance(31_000);
      assert.equal(await t.mcp.sweep(), 1);
    } finally {
      await t.close();
    }
  });
});

describe('stdio child transport: the process group', { skip: process.platform === 'win32' && 'POSIX process groups' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-group-'));
  const leftovers: number[] = [];
  after(() => {
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone, as it should be.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('close() after the leader already exited still ends what it started in its group (npx → server)', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const script = `sleep 60 </dev/null >/dev/null 2>&1 & echo $! > '${pidFile}'; exit 0`;
    const child = new ChildProcessTransport({ command: { program: '/bin/sh', args: ['-c', script] }, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, logger: createMemoryLogger(), killGraceMs: 500 });
    await child.start();
    await child.exited;
    await eventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().length > 0, 'the grandchild wrote its pid', 5000);
    const grandchild = Number(readFileSync(pidFile, 'utf8').trim());
    leftovers.push(grandchild);
    assert.ok(alive(grandchild), 'the grandchild outlived its parent');

    await child.close();
    await eventually(() => !alive(grandchild), 'the grandchild was stopped', 5000);
  });
});
