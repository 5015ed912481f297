import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Asymmetric client authentication and JWT grants (RFC 7523; MCP SEC-29, CC-06, EMA-06):
 *
 * - `clients.jwks` / `clients.jwks_uri`: the public keys a `private_key_jwt` client signs its
 *   assertions with, inline (a JSON JWK Set) or by URL (RFC 7591 §2). At most one of the two is set.
 * - `used_assertions`: the `jti` of every accepted client assertion and ID-JAG until it expires, so
 *   each is accepted once (RFC 7523 §3 item 7). The key is a hash of issuer and `jti`.
 */
export const clientKeys: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('clients').addColumn('jwks', 'text').execute();
    await db.schema.alterTable('clients').addColumn('jwks_uri', 'text').execute();

    await db.schema
      .createTable('used_assertions')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('used_assertions_expires_at').on('used_assertions').column('expires_at').execute();
  },
};
