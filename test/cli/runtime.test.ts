import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { renderStartupBanner } from '../../src/bootstrap/banner.ts';
import { ensureFirstAdmin } from '../../src/bootstrap/first-admin.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { startNodeServer } from '../../src/runtime/node.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { systemRandom } from '../../src/util/crypto.ts';
import { tempDatabase } from './helpers.ts';

describe('first administrator', () => {
  it('is created only on an empty database, and its password is returned once', async () => {
    const storage = await openSqliteStorage(':memory:');
    try {
      const deps = { clock: new ManualClock(), random: systemRandom };
      const first = await ensureFirstAdmin(storage, deps);
      assert.equal(first?.username, 'admin');
      assert.match(first && 'password' in first ? first.password : '', /^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
      assert.equal((await storage.users.byUsername('admin'))?.isAdmin, true);
      assert.equal(await ensureFirstAdmin(storage, deps), null);
      assert.equal(await storage.users.count(), 1);
    } finally {
      await storage.close();
    }
  });
});

describe('start-up banner', () => {
  const base = { listening: '127.0.0.1:3000', firstAdmin: null, cli: 'portcullis' };

  it('shows the MCP URL, the issuer, the absolute data path and next steps', () => {
    const text = renderStartupBanner({ ...base, config: resolveConfig({ database: './data/x.db' }) });
    assert.match(text, /MCP server URL {3}http:\/\/localhost:3000\/mcp\n/);
    assert.match(text, /Issuer {11}http:\/\/localhost:3000\n/);
    assert.match(text, new RegExp(`Data {13}${process.cwd().replace(/[/\\]/g, '.')}.data.x\\.db\\n`));
    assert.match(text, /portcullis users add <name>/);
    assert.match(text, /npx mcp-remote http:\/\/localhost:3000\/mcp/);
    assert.doesNotMatch(text, /password/);
  });

  it('never prints a database password', () => {
    const text = renderStartupBanner({ ...base, config: resolveConfig({ database: 'postgres://app:s3cret@db.internal/portcullis' }) });
    assert.ok(!text.includes('s3cret'));
    assert.match(text, /postgres:\/\/app:\*\*\*@db\.internal\/portcullis/);
  });

  it('warns about plain http on a network address and about a loopback URL on a public interface', () => {
    const insecure = renderStartupBanner({ ...base, config: resolveConfig({ publicUrl: 'http://10.0.0.5:3000', dangerouslyAllowInsecureHttp: true }) });
    assert.match(insecure, /WARNING: .*clear text/);
    const exposed = renderStartupBanner({ ...base, config: resolveConfig({ host: '0.0.0.0' }) });
    assert.match(exposed, /Set PORTCULLIS_PUBLIC_URL/);
  });
});

describe('Node runtime', () => {
  it('graceful shutdown: a stalled request cannot hold the server past the grace period; storage is closed', async () => {
    const db = tempDatabase();
    const logger = createMemoryLogger();
    const server = await startNodeServer(resolveConfig({ port: 0, database: db.database }), { handleSignals: false, shutdownGraceMs: 300, logger });
    try {
      const port = Number(server.listening.split(':').pop());
      assert.equal(server.config.issuer, `http://localhost:${port}`);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);

      // Headers begun, never finished: an in-flight request that would never end by itself.
      const socket = connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write('POST /register HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{');
      socket.on('error', () => {});

      const started = Date.now();
      await server.close();
      assert.ok(Date.now() - started < 5000, `close took ${Date.now() - started} ms`);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'no longer accepting connections');
      await assert.rejects(server.portcullis.ctx.storage.users.count(), 'storage is closed');
      assert.ok(logger.records().some((r) => r.msg === 'server stopped'));
    } finally {
      await server.close();
      db.cleanup();
    }
  });
});
