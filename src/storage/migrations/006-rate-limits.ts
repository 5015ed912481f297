import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * `rate_limits`: fixed-window request counters shared by every instance (registration, authorize,
 * token). One row per key, counted by one upsert (`rateLimits.hit`); `reset_at` is indexed because the
 * expiry sweep deletes by it.
 */
export const rateLimits: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('rate_limits')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addColumn('reset_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rate_limits_reset_at').on('rate_limits').column('reset_at').execute();
  },
};
