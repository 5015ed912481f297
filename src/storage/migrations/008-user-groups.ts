import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The groups a local account belongs to, for tool policy rules (`toolPolicy.rules[].groups`). One
 * row per membership: set by `portcullis users groups`, or at each login through an OpenID Connect
 * provider from its groups claim; removed with the user.
 */
export const userGroups: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('user_groups')
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('group_name', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('user_groups_pk', ['user_id', 'group_name'])
      .execute();
  },
};
