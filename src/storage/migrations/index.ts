import type { Migration, MigrationProvider } from 'kysely/migration';
import { initial } from './001-initial.ts';
import { upstreamLogin } from './002-upstream-login.ts';
import { clientKeys } from './003-client-keys.ts';
import { oneActiveSigningKey } from './004-one-active-signing-key.ts';
import { boundedGrowth } from './005-bounded-growth.ts';
import { rateLimits } from './006-rate-limits.ts';
import { adminSessionOwner } from './007-admin-session-owner.ts';
import { userGroups } from './008-user-groups.ts';
import { dpop } from './009-dpop.ts';

/** Versioned migrations, applied in name order. Never edit a released one: add the next. */
export const migrations: Record<string, Migration> = {
  '001-initial': initial,
  '002-upstream-login': upstreamLogin,
  '003-client-keys': clientKeys,
  '004-one-active-signing-key': oneActiveSigningKey,
  '005-bounded-growth': boundedGrowth,
  '006-rate-limits': rateLimits,
  '007-admin-session-owner': adminSessionOwner,
  '008-user-groups': userGroups,
  '009-dpop': dpop,
};

export const migrationProvider: MigrationProvider = { getMigrations: async () => migrations };
