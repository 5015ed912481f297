import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Administration (issue 12): a user's login sessions are listed and ended by user (`sessions list
 * --user`, a password change, sign out everywhere), so they are found by an index, not a scan.
 */
export const adminSessionOwner: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('login_sessions_user').on('login_sessions').column('user_id').execute();
  },
};
