import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { KeyRing } from '../../src/keys/key-encryption.ts';
import { openPostgresStorage } from '../../src/storage/postgres/open.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';

/** Every column the expiry sweep (`collectExpired`) selects by, with the index that serves it (migration 005). */
const SWEPT = [
  ['authorization_requests', 'expires_at'],
  ['authorization_codes', 'expires_at'],
  ['refresh_tokens', 'expires_at'],
  ['login_sessions', 'expires_at'],
  ['upstream_transactions', 'expires_at'],
  ['used_assertions', 'expires_at'],
  ['grants', 'expires_at'],
  ['grants', 'revoked_at'],
  ['failures', 'locked_until'],
  ['rate_limits', 'reset_at'],
] as const;

describe('HARD-8 the expiry sweep reads through indexes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-sweep-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('HARD-8 on SQLite every swept column is searched by an index, never by a scan of the table', async () => {
    const file = join(dir, 'plan.db');
    await (await openSqliteStorage(file)).close();
    const db = new DatabaseSync(file);
    try {
      for (const [table, column] of SWEPT) {
        const plan = (db.prepare(`explain query plan select rowid from ${table} where ${column} <= ? limit 500`).all(1) as { detail: string }[]).map((r) => r.detail).join('; ');
        assert.match(plan, /USING (COVERING )?INDEX/, `${table}.${column}: ${plan}`);
      }
    } finally {
      db.close();
    }
  });

  it('HARD-8 on PostgreSQL every swept column has an index', async (t) => {
    const url = process.env.DATABASE_URL;
    if (!url) return t.skip('DATABASE_URL is not set');
    const schema = `portcullis_idx_${randomBytes(6).toString('hex')}`;
    await (await openPostgresStorage(url, { schema, keyRing: KeyRing.ephemeral() })).close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ tablename: string; indexdef: string }>('select tablename, indexdef from pg_indexes where schemaname = $1', [schema]);
      for (const [table, column] of SWEPT) {
        assert.ok(
          rows.some((r) => r.tablename === table && new RegExp(`\\(${column}\\)`).test(r.indexdef)),
          `${table}.${column} has an index`,
        );
      }
    } finally {
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    }
  });
});
