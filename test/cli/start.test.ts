import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { verifyPassword } from '../../src/identity/passwords.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { join } from 'node:path';
import { spawnCli, startServer, tempDatabase } from './helpers.ts';

const READY = /MCP server URL\s+(http:\/\/localhost:(\d+)\/mcp)\n/;

/** The server listens on 127.0.0.1; fetch that rather than whatever `localhost` resolves to first. */
const loopback = (port: string, path: string) => `http://127.0.0.1:${port}${path}`;

describe('portcullis start', () => {
  const db = tempDatabase();
  const env = { PORT: '0', PORTCULLIS_DATABASE: db.database };
  after(() => db.cleanup());

  it('first start: prints the MCP URL with the real port, the data path and the admin password once; serves; exits 0 on SIGTERM', async () => {
    const server = await startServer(env, READY);
    try {
      const [, mcpUrl, port] = server.match as unknown as [string, string, string];
      const out = server.stdout();
      assert.notEqual(port, '0');
      assert.match(out, new RegExp(`Issuer\\s+http://localhost:${port}\\n`));
      assert.ok(out.includes(db.database), 'the absolute database path is shown');
      // HARD-4: the key-encryption key file, which a backup of the database must not travel with.
      assert.ok(out.includes(`Key file         ${db.database}.key`), 'the key file is named');
      assert.ok(statSync(`${db.database}.key`).isFile());
      assert.match(out, /npx mcp-remote http:\/\/localhost:\d+\/mcp/);
      assert.match(out, /users add <name>/);

      // The one-time administrator password: printed once, in the banner, never in a log line.
      const password = /password\s+(\S+)/.exec(out)?.[1];
      assert.ok(password, out);
      assert.equal(out.split(password).length - 1, 1, 'printed exactly once');
      for (const line of out.split('\n').filter((l) => l.startsWith('{'))) assert.ok(!line.includes(password), `logged: ${line}`);

      assert.deepEqual(await (await fetch(loopback(port, '/healthz'))).json(), { status: 'ok' });
      const metadata = (await (await fetch(loopback(port, '/.well-known/oauth-authorization-server'))).json()) as Record<string, unknown>;
      assert.equal(metadata.issuer, `http://localhost:${port}`, 'AS-04 the issuer names the port actually bound');
      assert.equal(new URL(mcpUrl).origin, metadata.issuer);

      server.child.kill('SIGTERM');
      assert.equal(await server.exited(), 0);
      assert.match(server.stdout(), /"msg":"server stopped"/);

      const storage = await openSqliteStorage(db.database);
      try {
        const admin = await storage.users.byUsername('admin');
        assert.equal(admin?.isAdmin, true);
        assert.equal(await verifyPassword(password, admin.passwordHash), true);
      } finally {
        await storage.close();
      }
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('second start on the same database: no administrator is created and no password printed', async () => {
    const server = await startServer(env, READY);
    try {
      assert.doesNotMatch(server.stdout(), /password/i);
      assert.doesNotMatch(server.stdout(), /administrator account was created/);
      server.child.kill('SIGINT');
      assert.equal(await server.exited(), 0);
      const storage = await openSqliteStorage(db.database);
      try {
        assert.equal(await storage.users.count(), 1);
      } finally {
        await storage.close();
      }
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('a port already in use is reported in one line, exit 1', async () => {
    const first = await startServer(env, READY);
    try {
      const port = first.match[2]!;
      const r = await spawnCli(['start'], { ...env, PORT: port });
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), `Port ${port} on 127.0.0.1 is already in use. Stop the other process or set PORT.`);
      first.child.kill('SIGTERM');
      assert.equal(await first.exited(), 0);
    } finally {
      first.child.kill('SIGKILL');
    }
  });

  it('a database that cannot be opened is reported in one line naming it, exit 1', async () => {
    // A regular file where a folder should be: the database's folder cannot be created.
    const database = join(db.database, 'sub', 'portcullis.db');
    const r = await spawnCli(['start'], { ...env, PORTCULLIS_DATABASE: database });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^Cannot open the database ${database.replace(/[.\\/]/g, '.')} \\(PORTCULLIS_DATABASE\\): `));
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
