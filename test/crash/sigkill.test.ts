import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { KeyRing, parseKeyEncryptionKey } from '../../src/keys/key-encryption.ts';
import { openPostgresStorage } from '../../src/storage/postgres/open.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import type { Storage } from '../../src/storage/types.ts';
import { base64url, hashSecret, pkceS256 } from '../../src/util/crypto.ts';
import { startServer, tempDatabase, type RunningServer } from '../cli/helpers.ts';
import { clientRecord } from '../helpers/records.ts';

/**
 * HARD-9 with real crashes: a real `portcullis start` process on a SQLite file, killed with SIGKILL
 * (no shutdown handler runs, no transaction finishes), then the file is inspected or served again.
 */

const READY = /MCP server URL\s+http:\/\/localhost:(\d+)\/mcp\n/;
const CLIENT_ID = 'cl_crash';
const GRACE_SECONDS = 2;
/** The key-encryption key the server and the test's own storage share (PostgreSQL needs one set). */
const KEK = randomBytes(32).toString('base64url');

/** Where the server keeps its data: a SQLite file, or a PostgreSQL schema of its own. */
interface Backend {
  name: string;
  /** PORTCULLIS_DATABASE for the server. */
  database: string;
  open(): Promise<Storage>;
  /** One number from a SQL query run directly on the database. */
  count(sql: string): Promise<number>;
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  const db = tempDatabase();
  return {
    name: 'SQLite',
    database: db.database,
    open: () => openSqliteStorage(db.database),
    async count(sql) {
      const sqlite = new DatabaseSync(db.database);
      try {
        return Number((sqlite.prepare(sql).get() as { n: number }).n);
      } finally {
        sqlite.close();
      }
    },
    cleanup: async () => db.cleanup(),
  };
}

function postgresBackend(url: string): Backend {
  const schema = `portcullis_crash_${randomBytes(6).toString('hex')}`;
  const withSchema = new URL(url);
  withSchema.searchParams.set('options', `-c search_path=${schema}`);
  const query = async (sql: string) => {
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    name: 'PostgreSQL',
    database: withSchema.toString(),
    open: () => openPostgresStorage(url, { schema, keyRing: new KeyRing(parseKeyEncryptionKey(KEK, 'test')) }),
    count: async (sql) => Number((await query(sql)).rows[0].n),
    cleanup: async () => void (await query(`drop schema if exists ${schema} cascade`)),
  };
}

const backends = (): Backend[] => [sqliteBackend(), ...(process.env.DATABASE_URL ? [postgresBackend(process.env.DATABASE_URL)] : [])];

async function seed(backend: Backend, codes: number): Promise<{ refreshToken: string; grantId: string; codes: { code: string; verifier: string }[] }> {
  const storage = await backend.open();
  const now = Date.now();
  await storage.users.create({ id: 'u_crash', username: 'crash', passwordHash: 'x', isAdmin: false, createdAt: now });
  await storage.clients.create(clientRecord({ clientId: CLIENT_ID, clientName: 'Crash test', redirectUris: ['http://127.0.0.1/cb'], createdAt: now }));
  const grantId = 'gnt_crash';
  const scopes = ['tasks:read', 'offline_access'];
  await storage.grants.create({ id: grantId, userId: 'u_crash', clientId: CLIENT_ID, scopes, resource: 'http://localhost/mcp', createdAt: now, expiresAt: now + 86_400_000, revokedAt: null });
  const refreshToken = 'pcr_' + base64url(randomBytes(32));
  await storage.refreshTokens.create({ tokenHash: hashSecret(refreshToken), grantId, clientId: CLIENT_ID, scopes, issuedAt: now, expiresAt: now + 86_400_000, rotatedAt: null, successorHash: null });
  const issued: { code: string; verifier: string }[] = [];
  for (let i = 0; i < codes; i++) {
    const code = 'pcc_' + base64url(randomBytes(32));
    const verifier = base64url(randomBytes(32));
    await storage.authorizationCodes.create({
      codeHash: hashSecret(code),
      grantId: `gnt_code${i}`,
      clientId: CLIENT_ID,
      userId: 'u_crash',
      redirectUri: 'http://127.0.0.1/cb',
      codeChallenge: pkceS256(verifier),
      scopes,
      resource: 'http://localhost/mcp',
      nonce: null,
      authTime: now,
      issueRefreshToken: true,
      expiresAt: now + 600_000,
    });
    issued.push({ code, verifier });
  }
  await storage.close();
  return { refreshToken, grantId, codes: issued };
}

const token = (port: string, params: Record<string, string>) =>
  fetch(`http://127.0.0.1:${port}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT_ID, ...params }).toString(),
  });

async function kill(server: RunningServer): Promise<void> {
  server.child.kill('SIGKILL');
  await server.exited();
}

describe('HARD-9 crashes (SIGKILL of a real server process)', () => {
  const used: Backend[] = [];
  after(async () => {
    for (const b of used) await b.cleanup();
  });
  const backend = (make: () => Backend) => {
    const b = make();
    used.push(b);
    return b;
  };

  it('HARD-9 a refresh committed before a SIGKILL is a retry after a restart slower than the grace period; later it is reuse', async () => {
    const db = backend(sqliteBackend);
    const seeded = await seed(db, 0);
    const env = { PORT: '0', PORTCULLIS_DATABASE: db.database, PORTCULLIS_REFRESH_GRACE_PERIOD: String(GRACE_SECONDS) };

    const first = await startServer(env, READY);
    const [, port1] = first.match as unknown as [string, string];
    const rotated = (await (await token(port1, { grant_type: 'refresh_token', refresh_token: seeded.refreshToken })).json()) as { refresh_token: string };
    assert.ok(rotated.refresh_token, JSON.stringify(rotated));
    // The rotation is committed; say its response was lost. The server dies, and stays down longer than the grace period.
    await kill(first);
    await sleep(GRACE_SECONDS * 1000 + 1500);

    const second = await startServer(env, READY);
    try {
      const [, port2] = second.match as unknown as [string, string];
      const retry = await token(port2, { grant_type: 'refresh_token', refresh_token: seeded.refreshToken });
      const body = (await retry.json()) as { refresh_token?: string; error?: string };
      assert.equal(retry.status, 200, JSON.stringify(body));
      assert.equal(body.refresh_token, rotated.refresh_token, 'the honest retry gets the successor it lost');

      // Past the grace period after the start the same token is reuse: the grant is revoked.
      await sleep(GRACE_SECONDS * 1000 + 500);
      const late = await token(port2, { grant_type: 'refresh_token', refresh_token: seeded.refreshToken });
      assert.equal(late.status, 400);
      assert.equal(((await late.json()) as { error: string }).error, 'invalid_grant');
      const afterReuse = await token(port2, { grant_type: 'refresh_token', refresh_token: rotated.refresh_token });
      assert.equal(afterReuse.status, 400, 'the successor died with the grant');
    } finally {
      await kill(second);
    }
  });

  for (const name of ['SQLite', 'PostgreSQL']) {
    it(`HARD-9 SIGKILL during code redemptions never leaves a redeemed code whose grant lacks its refresh token (${name})`, async (t) => {
      if (name === 'PostgreSQL' && !process.env.DATABASE_URL) return t.skip('DATABASE_URL is not set');
      for (let round = 0; round < 3; round++) {
        const db = backend(name === 'SQLite' ? sqliteBackend : () => postgresBackend(process.env.DATABASE_URL!));
        const seeded = await seed(db, 300);
        const server = await startServer({ PORT: '0', PORTCULLIS_DATABASE: db.database, PORTCULLIS_KEY_ENCRYPTION_KEY: KEK }, READY);
        const [, port] = server.match as unknown as [string, string];
        let answered = 0;
        const queue = [...seeded.codes];
        const worker = async () => {
          for (let next = queue.shift(); next; next = queue.shift()) {
            const res = await token(port, { grant_type: 'authorization_code', code: next.code, code_verifier: next.verifier }).catch(() => null);
            if (!res) return; // the server is gone
            await res.body?.cancel();
            if (res.status === 200) answered++;
          }
        };
        const workers = Array.from({ length: 12 }, worker);
        // Kill while requests are in flight, at a different point each round.
        while (answered < 40 + round * 30) await sleep(2);
        await kill(server);
        await Promise.all(workers);

        const redeemed = await db.count(`select count(*) as n from authorization_codes where consumed_at is not null`);
        assert.ok(redeemed >= answered, `${redeemed} codes redeemed, ${answered} answered`);
        assert.equal(
          await db.count(`select count(*) as n from authorization_codes c where c.consumed_at is not null and not exists (select 1 from refresh_tokens r where r.grant_id = c.grant_id)`),
          0,
          'every redeemed code has its refresh token',
        );
        assert.equal(await db.count(`select count(*) as n from grants where id like 'gnt_code%'`), redeemed, 'one grant per redeemed code, no other');
      }
    });
  }
});
