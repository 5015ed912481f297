import { Kysely } from 'kysely';
import { KEK_SETTING, KeyEncryptionError, type KeyRing } from '../../keys/key-encryption.ts';
import type { KeyRingSource } from '../../keys/key-ring-source.ts';
import { createKyselyStorage } from '../sql/kysely-storage.ts';
import { prepareSealedSecrets } from '../sql/sealed-secrets.ts';
import type { Database } from '../sql/tables.ts';
import type { Storage } from '../types.ts';
import { batchOperations } from './batch-operations.ts';
import type { D1Database } from './binding.ts';
import { D1Dialect, runBatch } from './dialect.ts';
import { migrateD1 } from './migrate.ts';

/**
 * D1 binds at most 100 values per statement: pruning removes at most this many clients per batch, so
 * the list of their ids and the rule's values fit in each statement.
 */
export const D1_PRUNE_BATCH = 50;

export interface D1Options {
  /** The key-encryption key of the server's secrets (a Worker secret); required, as for PostgreSQL. */
  keyRing: KeyRingSource;
  /** Bring the schema to the latest version first (default true; one read when it already is). */
  migrate?: boolean;
}

/**
 * The storage contract on a D1 binding (`env.DB` in a Worker). The shared Kysely implementation runs
 * every single-statement operation unchanged; the operations of several dependent steps run as one
 * `batch()` of conditional statements (batch-operations.ts).
 */
export function createD1Storage(d1: D1Database, keyRing: KeyRing): Storage {
  const db = new Kysely<Database>({ dialect: new D1Dialect(d1) });
  const ops = batchOperations(db, d1);
  // The binding belongs to the Worker's environment: closing the storage leaves it as it is.
  const shared = createKyselyStorage(db, keyRing, { onClose: async () => {}, runAtomically: (queries) => runBatch(d1, queries), deleteClients: ops.deleteClients });
  return {
    ...shared,
    clients: {
      ...shared.clients,
      create: (c, cap) => (c.source === 'dcr' ? ops.createSelfRegistered(c, cap) : shared.clients.create(c)),
      prune: (rule) => shared.clients.prune({ ...rule, batchSize: Math.min(rule.batchSize ?? D1_PRUNE_BATCH, D1_PRUNE_BATCH) }),
    },
    authorizationCodes: { ...shared.authorizationCodes, redeem: ops.redeem },
    refreshTokens: { ...shared.refreshTokens, rotate: ops.rotate },
    externalIdentities: { ...shared.externalIdentities, resolve: ops.resolveExternal },
    writeProblem: () => d1WriteProblem(d1),
  };
}

/**
 * Whether D1 takes writes, without an interactive transaction: a batch inserting the same probe row
 * twice. The second insert breaks the primary key, so the batch rolls back whole; a refusal of the
 * first (a read-only database, a full one) is the problem reported.
 */
async function d1WriteProblem(d1: D1Database): Promise<string | null> {
  const probe = () => d1.prepare("INSERT INTO counters (name, value) VALUES ('write-probe', 0)");
  try {
    await d1.batch([probe(), probe()]);
    return 'the write probe was not rolled back';
  } catch (error) {
    const message = (error as Error).message || String(error);
    return /UNIQUE constraint failed/i.test(message) ? null : message;
  }
}

/** Migrates the D1 database (unless told not to), checks its key-encryption key, and opens the storage. */
export async function openD1Storage(d1: D1Database, options: D1Options): Promise<Storage> {
  if (!options?.keyRing) throw new KeyEncryptionError(`A D1 database needs a key-encryption key: set the ${KEK_SETTING} secret`);
  if (options.migrate !== false) await migrateD1(d1);
  const db = new Kysely<Database>({ dialect: new D1Dialect(d1) });
  return createD1Storage(d1, await prepareSealedSecrets(db, options.keyRing));
}

export { migrateD1 } from './migrate.ts';
export type { D1Database } from './binding.ts';
