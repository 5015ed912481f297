import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { KeyRing } from '../../src/keys/key-encryption.ts';
import { KeyStore } from '../../src/keys/keystore.ts';
import { openPostgresStorage } from '../../src/storage/postgres/open.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import type { Storage } from '../../src/storage/types.ts';
import { ManualClock } from '../../src/util/clock.ts';

const INSTANCES = 3;
const STARTS = 6;

/**
 * Three instances start together on one empty database: each opens its own storage and key store at
 * once. Exactly one signing key may come out of it, and every instance must sign with that key.
 */
async function startTogether(open: () => Promise<Storage>): Promise<{ active: number; kids: Set<string> }> {
  const storages = await Promise.all(Array.from({ length: INSTANCES }, open));
  try {
    const clock = new ManualClock(Date.now());
    const stores = await Promise.all(storages.map((s) => KeyStore.open(s, clock, 'ES256')));
    const keys = await storages[0]!.signingKeys.list();
    return { active: keys.filter((k) => k.retiredAt === null).length, kids: new Set(stores.map((k) => k.activeKid)) };
  } finally {
    await Promise.all(storages.map((s) => s.close()));
  }
}

describe('HARD-6 three instances starting together on an empty database create exactly one signing key', () => {
  const url = process.env.DATABASE_URL;
  it(`PostgreSQL: ${STARTS} starts of ${INSTANCES} instances, each on a fresh schema`, { skip: url ? false : 'DATABASE_URL is not set' }, async () => {
    const schemas: string[] = [];
    const keyRing = KeyRing.ephemeral();
    try {
      const counts: number[] = [];
      const signers: number[] = [];
      for (let i = 0; i < STARTS; i++) {
        const schema = `portcullis_test_${randomBytes(6).toString('hex')}`;
        schemas.push(schema);
        const { active, kids } = await startTogether(() => openPostgresStorage(url!, { schema, keyRing, maxConnections: 2 }));
        counts.push(active);
        signers.push(kids.size);
      }
      assert.deepEqual(counts, Array(STARTS).fill(1), `active keys per start: ${counts.join(', ')}`);
      assert.deepEqual(signers, Array(STARTS).fill(1), `distinct signing keys in use per start: ${signers.join(', ')}`);
    } finally {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      for (const schema of schemas) await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    }
  });

  it(`SQLite: ${STARTS} starts of ${INSTANCES} instances, each on a fresh shared file`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-first-key-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const counts: number[] = [];
    const signers: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const path = join(dir, `race-${i}.db`);
      // Created and migrated first: SQLite migrations take no lock across processes (PostgreSQL's do).
      await (await openSqliteStorage(path)).close();
      const { active, kids } = await startTogether(() => openSqliteStorage(path));
      counts.push(active);
      signers.push(kids.size);
    }
    assert.deepEqual(counts, Array(STARTS).fill(1), `active keys per start: ${counts.join(', ')}`);
    assert.deepEqual(signers, Array(STARTS).fill(1), `distinct signing keys in use per start: ${signers.join(', ')}`);
  });
});
