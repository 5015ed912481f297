import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { KeyRing } from '../../src/keys/key-encryption.ts';
import { openPostgresStorage } from '../../src/storage/postgres/open.ts';
import { describeStorageContract } from './contract.ts';
import { describeGrowthContract } from './contract-growth.ts';

const url = process.env.DATABASE_URL;

if (!url) {
  describe('storage contract: postgresql', () => {
    it('is skipped: set DATABASE_URL to run it', (t) => t.skip('DATABASE_URL is not set'));
  });
} else {
  // Each run gets its own schema, dropped afterwards, so runs never see each other's rows.
  const schema = `portcullis_test_${randomBytes(6).toString('hex')}`;
  after(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.query(`drop schema if exists ${schema}_growth cascade`);
    await client.end();
  });
  // Instances of one deployment share the key-encryption key.
  const keyRing = KeyRing.ephemeral();
  const sharedSchemas: string[] = [];
  describeStorageContract('postgresql', () => openPostgresStorage(url, { schema, keyRing }), {
    async fresh() {
      const fresh = `portcullis_test_${randomBytes(6).toString('hex')}`;
      sharedSchemas.push(fresh);
      return () => openPostgresStorage(url, { schema: fresh, keyRing, maxConnections: 2 });
    },
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      for (const s of sharedSchemas) await client.query(`drop schema if exists ${s} cascade`);
      await client.end();
    },
  });
  describeGrowthContract('postgresql', () => openPostgresStorage(url, { schema: `${schema}_growth`, keyRing }));
}
