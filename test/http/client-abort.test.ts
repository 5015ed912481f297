import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/resolve.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { startNodeServer, type NodeServer } from '../../src/runtime/node.ts';
import { tempDatabase } from '../cli/helpers.ts';
import { createTestApp } from '../helpers/app.ts';

/**
 * HARD-11: anyone can open a connection, send half a request and hang up. That is no fault of the
 * server, so it must not be logged as one: an attacker could fill the error log (and bury real
 * faults) at will. One info line, no stack. A real fault stays an error with its stack.
 */

/** Sends the headers and part of a body that never completes, then drops the connection. */
async function hangUpMidRequest(port: number, path: string, contentType: string): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${contentType}\r\nContent-Length: 1000\r\n\r\nabc`);
  await new Promise((r) => setTimeout(r, 150));
  socket.destroy();
}

describe('HARD-11 aborted requests are not logged as errors', () => {
  const db = tempDatabase();
  const logger = createMemoryLogger();
  let server: NodeServer;
  let port: number;
  before(async () => {
    server = await startNodeServer(resolveConfig({ port: 0, database: db.database }), { handleSignals: false, shutdownGraceMs: 300, logger });
    port = Number(server.listening.split(':').pop());
  });
  after(async () => {
    await server.close();
    db.cleanup();
  });

  const cases: Array<[string, string]> = [
    ['/token', 'application/x-www-form-urlencoded'],
    ['/revoke', 'application/x-www-form-urlencoded'],
    ['/introspect', 'application/x-www-form-urlencoded'],
    ['/mcp', 'application/json'],
    ['/register', 'application/json'],
    ['/login', 'application/x-www-form-urlencoded'],
    ['/consent', 'application/x-www-form-urlencoded'],
  ];
  for (const [path, type] of cases) {
    it(`HARD-11 a client hanging up mid-body on POST ${path}: at most one info line, no error, no stack`, async () => {
      const before = logger.records().length;
      await hangUpMidRequest(port, path, type);
      // The server notices the hang-up on its own schedule: wait until the server has answered the next request.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      const lines = logger.records().slice(before);
      assert.deepEqual(lines.filter((l) => l.level === 'error' || l.level === 'warn'), [], JSON.stringify(lines));
      const aborted = lines.filter((l) => l.msg === 'request aborted by the client');
      assert.ok(aborted.length <= 1, JSON.stringify(lines));
      for (const line of aborted) {
        assert.equal(line.level, 'info');
        assert.equal(line.path, path);
        assert.ok(!JSON.stringify(line).includes('stack'), 'no stack trace');
      }
    });
  }
});

describe('HARD-11 a server fault is still an error with its stack', () => {
  it('HARD-11 storage failing under POST /token: 500 server_error and an error line with the stack', async () => {
    const app = await createTestApp();
    await app.storage.close();
    const response = await app.request('/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=x&client_id=c',
    });
    assert.equal(response.status, 500);
    const errors = app.logger.records().filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, JSON.stringify(app.logger.records()));
    assert.equal(errors[0]!.msg, 'unhandled error');
    assert.match(JSON.stringify(errors[0]), /"stack":/);
  });
});
