import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * At most one unretired signing key (HARD-6). Instances starting together on an empty database each
 * created a first key; a unique index over a value that is the same for every unretired row makes the
 * database admit one, so creating the first key is a single conditional INSERT in every engine.
 *
 * Databases where that already happened keep their newest unretired key; the others are retired and
 * stay published for a day (the longest access token lifetime), so tokens they signed keep verifying.
 */
const LONGEST_ACCESS_TOKEN_MS = 86_400_000;

export const oneActiveSigningKey: Migration = {
  async up(db: Kysely<any>) {
    const active = await db.selectFrom('signing_keys').select(['kid']).where('retired_at', 'is', null).orderBy('created_at', 'desc').orderBy('kid', 'desc').execute();
    const now = Date.now();
    for (const { kid } of active.slice(1)) {
      await db.updateTable('signing_keys').set({ retired_at: now, publish_until: now + LONGEST_ACCESS_TOKEN_MS }).where('kid', '=', kid).execute();
    }
    await sql`create unique index signing_keys_one_active on signing_keys ((retired_at is null)) where retired_at is null`.execute(db);
  },
};
