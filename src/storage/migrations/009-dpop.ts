import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * DPoP (RFC 9449), each a nullable column so existing rows keep their meaning (no binding):
 *
 * - `clients.dpop_bound_access_tokens` (§5.2): 1 when the client registered that it always uses DPoP.
 * - `authorization_requests.dpop_jkt`, `authorization_codes.dpop_jkt` (§10): the key thumbprint the
 *   client named at /authorize, carried from the pending request to the code it yields.
 * - `grants.dpop_jkt` (§5): a public client's refresh tokens are bound to the key the grant was obtained with.
 */
export const dpop: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('clients').addColumn('dpop_bound_access_tokens', 'integer').execute();
    await db.schema.alterTable('authorization_requests').addColumn('dpop_jkt', 'text').execute();
    await db.schema.alterTable('authorization_codes').addColumn('dpop_jkt', 'text').execute();
    await db.schema.alterTable('grants').addColumn('dpop_jkt', 'text').execute();
  },
};
