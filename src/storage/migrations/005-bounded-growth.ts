import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Bounded growth (HARD-7, HARD-8):
 *
 * - An index on every column the expiry sweep deletes by, so a sweep with nothing to delete reads
 *   nothing, and one with much to delete can go in small batches (`collectExpired`).
 * - `clients.last_grant_at`: when the client last completed a grant (null: never). Self-registered
 *   clients that never completed one, or have had no live grant for long, are pruned; the index
 *   finds the oldest never-used ones for eviction at the cap.
 * - `counters`: the number of self-registered clients, kept by the statements that add and remove
 *   them, so the registration cap is a conditional update of one row instead of a count of a table.
 */
export const boundedGrowth: Migration = {
  async up(db: Kysely<any>) {
    for (const table of ['authorization_requests', 'authorization_codes', 'refresh_tokens', 'login_sessions', 'upstream_transactions', 'grants']) {
      await db.schema.createIndex(`${table}_expires_at`).on(table).column('expires_at').execute();
    }
    await db.schema.createIndex('grants_revoked_at').on('grants').column('revoked_at').execute();
    await db.schema.createIndex('failures_locked_until').on('failures').column('locked_until').execute();
    // Removing a client (eviction, pruning) deletes its consents by client.
    await db.schema.createIndex('consents_client').on('consents').column('client_id').execute();

    await db.schema.alterTable('clients').addColumn('last_grant_at', 'bigint').execute();
    await db.schema.createIndex('clients_source_use').on('clients').columns(['source', 'last_grant_at', 'created_at']).execute();
    // Clients that already have a grant have been used: they must not look like a flood's leftovers.
    await sql`update clients set last_grant_at = (select max(g.created_at) from grants g where g.client_id = clients.client_id)`.execute(db);

    await db.schema
      .createTable('counters')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'bigint', (c) => c.notNull())
      .execute();
    await sql`insert into counters (name, value) select 'clients.dcr', count(*) from clients where source = 'dcr'`.execute(db);
  },
};
