import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { Clock } from '../util/clock.ts';
import type { SigningKeyRecord, Storage } from '../storage/types.ts';

export type SigningAlgorithm = 'ES256' | 'RS256';

interface LoadedKey {
  record: SigningKeyRecord;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * Signing keys live in storage so every instance signs and publishes the same set. The newest
 * unretired key signs; retired keys stay in the JWKS until tokens they signed have expired.
 */
export class KeyStore {
  #storage: Storage;
  #clock: Clock;
  #alg: SigningAlgorithm;
  #keys: LoadedKey[] = [];
  #jwks: { keys: JWK[] } = { keys: [] };

  private constructor(storage: Storage, clock: Clock, alg: SigningAlgorithm) {
    this.#storage = storage;
    this.#clock = clock;
    this.#alg = alg;
  }

  /** Loads the keys, creating the first one for `alg` when none is active. */
  static async open(storage: Storage, clock: Clock, alg: SigningAlgorithm): Promise<KeyStore> {
    const store = new KeyStore(storage, clock, alg);
    await store.reload();
    if (!store.#active()) {
      await storage.signingKeys.add(await createSigningKey(alg, clock.now()));
      await store.reload();
    }
    return store;
  }

  /** Re-reads keys from storage (another instance or the CLI may have rotated them). */
  async reload(): Promise<void> {
    const now = this.#clock.now();
    const records = (await this.#storage.signingKeys.list()).filter((k) => k.publishUntil === null || k.publishUntil > now);
    const loaded: LoadedKey[] = [];
    for (const record of records) {
      const known = this.#keys.find((k) => k.record.kid === record.kid);
      if (known) {
        loaded.push({ ...known, record });
        continue;
      }
      const privateKey = (await importJWK(JSON.parse(record.privateJwk) as JWK, record.alg)) as CryptoKey;
      loaded.push({ record, privateKey, publicJwk: JSON.parse(record.publicJwk) as JWK });
    }
    this.#keys = loaded;
    this.#jwks = { keys: loaded.map((k) => k.publicJwk) };
  }

  #active(): LoadedKey | undefined {
    // Prefer the configured algorithm, newest first; a retired key never signs.
    const live = this.#keys.filter((k) => k.record.retiredAt === null).reverse();
    return live.find((k) => k.record.alg === this.#alg) ?? live[0];
  }

  /** Public keys only: what `/jwks` serves. */
  jwks(): { keys: JWK[] } {
    return this.#jwks;
  }

  get activeKid(): string {
    return this.#requireActive().record.kid;
  }

  #requireActive(): LoadedKey {
    const key = this.#active();
    if (!key) throw new Error('No active signing key: run `portcullis keys rotate`');
    return key;
  }

  async sign(payload: JWTPayload, typ: string): Promise<string> {
    const key = this.#requireActive();
    return new SignJWT(payload).setProtectedHeader({ alg: key.record.alg, kid: key.record.kid, typ }).sign(key.privateKey);
  }

  /** Adds a new active key and retires the others, keeping them published for `overlapMs`. */
  async rotate(overlapMs: number, alg: SigningAlgorithm = this.#alg): Promise<SigningKeyRecord> {
    const now = this.#clock.now();
    const next = await createSigningKey(alg, now);
    await this.#storage.signingKeys.add(next);
    for (const k of this.#keys) if (k.record.retiredAt === null) await this.#storage.signingKeys.retire(k.record.kid, now, now + overlapMs);
    this.#alg = alg;
    await this.reload();
    return next;
  }
}

export async function createSigningKey(alg: SigningAlgorithm, now: number): Promise<SigningKeyRecord> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    alg,
    privateJwk: JSON.stringify({ ...privateJwk, kid, alg }),
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
    createdAt: now,
    retiredAt: null,
    publishUntil: null,
  };
}
