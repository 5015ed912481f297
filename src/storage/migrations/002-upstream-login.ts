import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Logging users in through an upstream identity provider (OpenID Connect, Stytch):
 *
 * - `external_identities` links an upstream identity (provider kind, issuer, subject) to a local user.
 *   The key is the issuer and subject, never the e-mail address (MCP UP-06).
 * - `upstream_transactions` holds one upstream login between the redirect to the provider and our
 *   callback: created only after the user consented (BP-06), taken once, expiring after 10 minutes,
 *   bound to the browser by the hash of a cookie value. The `state` is stored only as its hash.
 */
export const upstreamLogin: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('external_identities')
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('issuer', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_login_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('external_identities_pk', ['provider', 'issuer', 'subject'])
      .execute();
    await db.schema.createIndex('external_identities_user').on('external_identities').column('user_id').execute();

    await db.schema
      .createTable('upstream_transactions')
      .addColumn('state_hash', 'text', (c) => c.primaryKey())
      .addColumn('browser_hash', 'text', (c) => c.notNull())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('code_verifier', 'text')
      .addColumn('nonce', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
