import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/** Sign out everywhere (the account page) ends a user's sessions by user: an index, not a scan of every session. */
export const loginSessionsUser: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('login_sessions_user').on('login_sessions').column('user_id').execute();
  },
};
