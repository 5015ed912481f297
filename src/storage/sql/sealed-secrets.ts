import type { Kysely } from 'kysely';
import { isSealed, sealedUnder, type KeyRing } from '../../keys/key-encryption.ts';
import type { KeyRingSource } from '../../keys/key-ring-source.ts';
import type { Database } from './tables.ts';

/**
 * The columns that hold the server's own secrets, sealed under the key-encryption key
 * (src/keys/key-encryption.ts): signing keys' private JWKs and the settings (server keys). Each value's
 * purpose names its column and row, so a sealed value copied to another row does not open.
 */
export const signingKeyPurpose = (kid: string): string => `signing key ${kid}`;
export const settingPurpose = (name: string): string => `setting ${name}`;

interface SealedValue {
  purpose: string;
  value: string;
  /** Replaces the value if it is still `value`: a conditional UPDATE, so concurrent instances re-seal once. */
  replace(sealed: string): Promise<void>;
}

async function sealedValues(db: Kysely<Database>): Promise<SealedValue[]> {
  const keys = await db.selectFrom('signing_keys').select(['kid', 'private_jwk']).execute();
  const settings = await db.selectFrom('settings').select(['name', 'value']).execute();
  return [
    ...keys.map((k) => ({
      purpose: signingKeyPurpose(k.kid),
      value: k.private_jwk,
      replace: async (sealed: string) => void (await db.updateTable('signing_keys').set({ private_jwk: sealed }).where('kid', '=', k.kid).where('private_jwk', '=', k.private_jwk).execute()),
    })),
    ...settings.map((s) => ({
      purpose: settingPurpose(s.name),
      value: s.value,
      replace: async (sealed: string) => void (await db.updateTable('settings').set({ value: sealed }).where('name', '=', s.name).where('value', '=', s.value).execute()),
    })),
  ];
}

/**
 * At open: resolves the key ring, checks that every sealed value opens with it (a wrong or missing key
 * is one clear error at start, not a failure at some later request), and seals the plaintext a
 * database made by an earlier version holds.
 */
export async function prepareSealedSecrets(db: Kysely<Database>, source: KeyRingSource): Promise<KeyRing> {
  const values = await sealedValues(db);
  const ring = typeof source === 'function' ? source(new Set(values.map((v) => sealedUnder(v.value)).filter((id) => id !== null))) : source;
  for (const v of values) {
    if (isSealed(v.value)) ring.open(v.purpose, v.value);
    else await v.replace(ring.seal(v.purpose, v.value));
  }
  return ring;
}

/** Re-seals every value not under the ring's current key; returns how many it changed. */
export async function rewrapSealedSecrets(db: Kysely<Database>, ring: KeyRing): Promise<number> {
  let changed = 0;
  for (const v of await sealedValues(db)) {
    if (ring.isCurrent(v.value)) continue;
    await v.replace(ring.seal(v.purpose, isSealed(v.value) ? ring.open(v.purpose, v.value) : v.value));
    changed++;
  }
  return changed;
}
