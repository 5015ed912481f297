import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { Miniflare } from 'miniflare';
import { isSealed, KeyRing } from '../../src/keys/key-encryption.ts';
import type { D1Database } from '../../src/storage/d1/binding.ts';
import { D1Dialect } from '../../src/storage/d1/dialect.ts';
import { migrateD1, openD1Storage } from '../../src/storage/d1/open.ts';
import { migrations } from '../../src/storage/migrations/index.ts';
import { migrate } from '../../src/storage/sql/kysely-storage.ts';
import { contractRecords } from './records.ts';
import { describeStorageContract } from './contract.ts';
import { describeGrowthContract } from './contract-growth.ts';

/**
 * The storage contract on D1 under workerd (Miniflare), each suite on its own in-memory database.
 * Node reaches the bindings through Miniflare's proxy: every statement and batch is a real request to
 * D1 in workerd, where batches run as D1 runs them (in order, atomically, one at a time) and D1's
 * limits hold (at most 100 bound values per statement).
 */
// One per `fresh()` of the shared-database suite (D1 databases are bindings, declared up front).
const SHARED = Array.from({ length: 8 }, (_, i) => `SHARED_${i + 1}`);
const DATABASES = ['CONTRACT', 'GROWTH', ...SHARED, 'SCHEMA', 'MIGRATE', 'MIGRATE_RACE', 'SEALED', 'PRUNE'];
const mf = new Miniflare({
  workers: [
    {
      config: {
        name: 'd1-contract',
        compatibilityDate: '2026-11-01',
        manifest: { mainModule: 'index.js', modules: { 'index.js': { type: 'esm', contents: 'export default { fetch: () => new Response(null, { status: 404 }) };' } } },
        env: Object.fromEntries(DATABASES.map((name) => [name, { type: 'd1' as const, id: `portcullis-${name.toLowerCase()}` }])),
      },
    },
  ],
});
/**
 * A binding as Node sees it through the proxy, with each SQL text prepared once and bound anew per
 * use (as D1 allows): preparing is local in a Worker but a round trip through the proxy.
 */
async function binding(name: string): Promise<D1Database> {
  const d1 = (await mf.getD1Database(name)) as unknown as D1Database;
  const prepared = new Map<string, ReturnType<D1Database['prepare']>>();
  return {
    prepare(query) {
      let statement = prepared.get(query);
      if (!statement) prepared.set(query, (statement = d1.prepare(query)));
      return statement;
    },
    batch: (statements) => d1.batch(statements),
  };
}
before(() => mf.ready);
after(() => mf.dispose());

// Instances of one deployment share the key-encryption key (a Worker secret).
const keyRing = KeyRing.ephemeral();
let shared = 0;
describeStorageContract('d1 (miniflare)', async () => openD1Storage(await binding('CONTRACT'), { keyRing }), {
  async fresh() {
    const name = SHARED[shared++];
    if (!name) throw new Error('no more shared D1 databases: add a binding');
    const d1 = await binding(name);
    // Three instances open at once on an empty database: they also migrate it at once.
    return () => openD1Storage(d1, { keyRing });
  },
});
describeGrowthContract('d1 (miniflare)', async () => openD1Storage(await binding('GROWTH'), { keyRing }));

/** Tables and indexes as SQLite records them, without the engine's own and the migration bookkeeping. */
const SCHEMA_QUERY =
  "select type, name, tbl_name, sql from sqlite_master where type in ('table', 'index') and name not like 'sqlite_%' and name not like '_cf_%' and name not like 'kysely_migration%' order by name";
const appliedNames = async (d1: D1Database) => (await d1.prepare('select name from kysely_migration order by name').all<{ name: string }>()).results.map((r) => r.name);

describe('D1 migrations', () => {
  it('the same migration list gives D1 exactly the schema it gives SQLite', async () => {
    const raw = new DatabaseSync(':memory:');
    const local = new Kysely<any>({
      dialect: new SqliteDialect({
        database: {
          close: () => raw.close(),
          prepare: (text) => {
            const stmt = raw.prepare(text);
            return { reader: stmt.columns().length > 0, all: (p) => stmt.all(...(p as never[])), run: (p) => stmt.run(...(p as never[])), iterate: (p) => stmt.iterate(...(p as never[])) };
          },
        },
      }),
    });
    await migrate(local);
    const expected = raw.prepare(SCHEMA_QUERY).all().map((r) => ({ ...r }));
    await local.destroy();

    const d1 = await binding('SCHEMA');
    assert.deepEqual(await migrateD1(d1), Object.keys(migrations).sort(), 'every migration applied, in order');
    assert.ok(expected.length > 20, `${expected.length} tables and indexes`);
    assert.deepEqual((await d1.prepare(SCHEMA_QUERY).all()).results, expected);
    assert.deepEqual(await migrateD1(d1), [], 'an up-to-date database needs nothing');
  });

  it('a migration is applied whole or not at all: one that fails leaves nothing behind and is not recorded', async () => {
    const d1 = await binding('MIGRATE');
    await migrateD1(d1);
    const broken = {
      async up(db: Kysely<any>) {
        await db.schema.createTable('half_done').addColumn('id', 'text', (c) => c.primaryKey()).execute();
        await sql`insert into no_such_table values (1)`.execute(db);
      },
    };
    await assert.rejects(migrateD1(d1, { ...migrations, '999-broken': broken }), /D1 migration 999-broken failed: .*no such table/);
    const tables = (await d1.prepare("select name from sqlite_master where name = 'half_done'").all()).results;
    assert.deepEqual(tables, [], 'the table the migration created first was rolled back');
    assert.ok(!(await appliedNames(d1)).includes('999-broken'));
    assert.deepEqual(await migrateD1(d1), []);
  });

  it('three instances migrating one new database at once apply each migration exactly once', async () => {
    const d1 = await binding('MIGRATE_RACE');
    const applied = await Promise.all([migrateD1(d1), migrateD1(d1), migrateD1(d1)]);
    assert.deepEqual(applied.flat().sort(), Object.keys(migrations).sort(), 'between them, each migration was applied by one');
    assert.deepEqual(await appliedNames(d1), Object.keys(migrations).sort());
  });
});

describe('D1 storage', () => {
  it('signing keys and settings are sealed at rest in D1 and rewrapped when the key-encryption key rotates; a key the database does not hold cannot open it', async () => {
    const d1 = await binding('SEALED');
    const storage = await openD1Storage(d1, { keyRing });
    const secret = 'd-value-that-must-not-be-stored-in-clear';
    await storage.signingKeys.addIfNoneActive({ kid: 'kid-sealed', alg: 'ES256', privateJwk: `{"d":"${secret}"}`, publicJwk: '{}', createdAt: 1, retiredAt: null, publishUntil: null });
    await storage.settings.putIfAbsent('refresh-successor-key', 'setting-secret-value');
    const [key] = (await d1.prepare('select private_jwk from signing_keys').all<{ private_jwk: string }>()).results;
    const [setting] = (await d1.prepare('select value from settings').all<{ value: string }>()).results;
    assert.ok(key && isSealed(key.private_jwk) && !key.private_jwk.includes(secret), 'the private key is sealed');
    assert.ok(setting && isSealed(setting.value) && !setting.value.includes('setting-secret-value'), 'the setting is sealed');
    assert.equal((await storage.signingKeys.list())[0]?.privateJwk, `{"d":"${secret}"}`);
    await assert.rejects(openD1Storage(d1, { keyRing: KeyRing.ephemeral() }), /does not hold/, 'a wrong key is one clear error at open');

    // Rotating the key-encryption key: the new ring opens the old values and rewraps them in D1.
    const rotated = new KeyRing(KeyRing.ephemeral().current, [keyRing.current]);
    const reopened = await openD1Storage(d1, { keyRing: rotated });
    assert.equal(await reopened.rewrapSecrets(), 2);
    assert.equal(await reopened.rewrapSecrets(), 0, 'nothing left to rewrap');
    await assert.rejects(openD1Storage(d1, { keyRing }), 'the retired key no longer opens the database');
    assert.equal(await reopened.settings.get('refresh-successor-key'), 'setting-secret-value');
  });

  it('needs a key-encryption key', async () => {
    const d1 = await binding('SEALED');
    await assert.rejects(openD1Storage(d1, {} as never), /PORTCULLIS_KEY_ENCRYPTION_KEY/);
  });

  it('HARD-7 prune with its default batch removes more clients than D1 binds values per statement', async () => {
    const d1 = await binding('PRUNE');
    const storage = await openD1Storage(d1, { keyRing });
    const NOW = 1_800_000_000_000;
    const { client } = contractRecords(NOW);
    const stale = Array.from({ length: 130 }, () => client({ createdAt: NOW - 2 * 86_400_000 }));
    const young = client({ createdAt: NOW });
    for (let i = 0; i < stale.length; i += 50) await Promise.all(stale.slice(i, i + 50).map((c) => storage.clients.create(c)));
    await storage.clients.create(young);
    const removed = await storage.clients.prune({ now: NOW, unusedCreatedBefore: NOW - 86_400_000, idleSince: NOW - 30 * 86_400_000 });
    assert.equal(removed, 130);
    assert.equal(await storage.clients.count('dcr'), 1);
    assert.notEqual(await storage.clients.get(young.clientId), null);
  });

  it('refuses an interactive transaction with a clear error instead of running the steps one by one', async () => {
    const db = new Kysely<any>({ dialect: new D1Dialect(await binding('SEALED')) });
    await assert.rejects(db.transaction().execute(async () => 1), /D1 has no interactive transactions/);
  });
});
