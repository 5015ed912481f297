import { createPrivateKey, sign as signBytes, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import type { Clock } from '../util/clock.ts';
import type { SigningKeyRecord, Storage } from '../storage/types.ts';

export type SigningAlgorithm = 'ES256' | 'RS256';

interface LoadedKey {
  record: SigningKeyRecord;
  privateKey: KeyObject;
  publicJwk: JWK;
}

const segment = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** P-256 coordinate size: an ES256 JWS signature is R || S, 32 bytes each (RFC 7518 §3.4). */
const P256_BYTES = 32;

/**
 * RFC 7518 §3.4: converts the DER `ECDSA-Sig-Value` (SEQUENCE of INTEGER r, INTEGER s) that
 * node:crypto returns by default into the fixed-size R || S a JWS carries. Asking node:crypto for
 * `dsaEncoding: 'ieee-p1363'` instead doubles the cost of an ES256 signature (bench/README.md).
 */
export function ecdsaDerToJose(der: Buffer): Buffer {
  const out = Buffer.alloc(2 * P256_BYTES);
  // 0x30 and a one-byte length: a P-256 signature is at most 72 bytes.
  if (der[0] !== 0x30 || der[1] !== der.length - 2) throw new Error('not a DER ECDSA signature');
  let at = 2;
  for (let i = 0; i < 2; i++) {
    const length = der[at + 1] ?? 0;
    if (der[at] !== 0x02 || length === 0 || at + 2 + length > der.length) throw new Error('not a DER ECDSA signature');
    let start = at + 2;
    let size = length;
    // A leading 0x00 keeps a positive INTEGER positive; R and S themselves are unsigned.
    while (size > P256_BYTES && der[start] === 0) {
      start++;
      size--;
    }
    if (size > P256_BYTES) throw new Error('not a P-256 ECDSA signature');
    der.copy(out, i * P256_BYTES + (P256_BYTES - size), start, start + size);
    at += 2 + length;
  }
  if (at !== der.length) throw new Error('not a DER ECDSA signature');
  return out;
}

/**
 * Signing keys live in storage so every instance signs and publishes the same set; storage keeps
 * their private halves encrypted. One key is unretired and signs; retired keys stay in the JWKS until
 * tokens they signed have expired.
 */
export class KeyStore {
  #storage: Storage;
  #clock: Clock;
  #alg: SigningAlgorithm;
  #keys: LoadedKey[] = [];
  #jwks: { keys: JWK[] } = { keys: [] };
  /** Encoded JWS headers by key and `typ`: the same few strings for every token a key signs. */
  #headers = new Map<string, string>();

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
      // Instances starting together each offer a key; storage keeps exactly one, which all then load.
      await storage.signingKeys.addIfNoneActive(await createSigningKey(alg, clock.now()));
      await store.reload();
    }
    return store;
  }

  /** Loads the keys there are and never creates one: for a server that signs nothing (resource-only mode). */
  static async load(storage: Storage, clock: Clock, alg: SigningAlgorithm): Promise<KeyStore> {
    const store = new KeyStore(storage, clock, alg);
    await store.reload();
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
      const privateKey = createPrivateKey({ key: JSON.parse(record.privateJwk) as JWK & { kty: string }, format: 'jwk' });
      loaded.push({ record, privateKey, publicJwk: JSON.parse(record.publicJwk) as JWK });
    }
    this.#keys = loaded;
    this.#jwks = { keys: loaded.map((k) => k.publicJwk) };
    // Rebuilt for the keys now loaded (reloads are once a minute): no header of a dropped key stays.
    this.#headers.clear();
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

  /**
   * A compact JWS (RFC 7515 §7.1) of `payload`, signed by the active key. Signed in place with
   * node:crypto: an ES256 signature takes ~20 µs of CPU, less than handing it to WebCrypto's thread
   * pool and back, which also adds two thread switches to every token request (bench/README.md).
   */
  async sign(payload: JWTPayload, typ: string): Promise<string> {
    const key = this.#requireActive();
    const signingInput = `${this.#header(key, typ)}.${segment(payload)}`;
    // ES256 (RFC 7518 §3.4) is ECDSA P-256 with SHA-256; RS256 (§3.3) is PKCS#1 v1.5 with SHA-256, node's default for RSA.
    const signature = signBytes('sha256', Buffer.from(signingInput), key.privateKey);
    return `${signingInput}.${(key.record.alg === 'ES256' ? ecdsaDerToJose(signature) : signature).toString('base64url')}`;
  }

  #header(key: LoadedKey, typ: string): string {
    const id = `${key.record.kid} ${typ}`;
    let header = this.#headers.get(id);
    if (header === undefined) {
      header = segment({ alg: key.record.alg, kid: key.record.kid, typ });
      // A kid names one key and one algorithm: a few entries (loaded keys × token types).
      this.#headers.set(id, header);
    }
    return header;
  }

  /** Adds a new active key and retires the others, keeping them published for `overlapMs`. */
  async rotate(overlapMs: number, alg: SigningAlgorithm = this.#alg): Promise<SigningKeyRecord> {
    const now = this.#clock.now();
    const next = await createSigningKey(alg, now);
    await this.#storage.signingKeys.rotate(next, now, now + overlapMs);
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
