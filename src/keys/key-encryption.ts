import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { ConfigError } from '../config/resolve.ts';

/**
 * Encryption at rest of the server's own secrets (signing keys, server keys): AES-256-GCM under a
 * key-encryption key (KEK) that is never in the database, so a copy of the database or of a backup
 * gives nothing to mint or derive a credential with.
 *
 * A sealed value is `pcenc1.<kek id>.<iv>.<ciphertext and tag>` (base64url parts). The KEK id names
 * the key that sealed it, so a rotated ring can still read it and errors can say which key is missing.
 * The additional authenticated data binds the value to its purpose and row (e.g. `settings:<name>`):
 * a value moved to another row, or altered, does not decrypt.
 */

const VERSION = 'pcenc1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEK_BYTES = 32;

/** The setting that names the current key, for error messages. */
export const KEK_SETTING = 'PORTCULLIS_KEY_ENCRYPTION_KEY';
export const PREVIOUS_KEKS_SETTING = 'PORTCULLIS_PREVIOUS_KEY_ENCRYPTION_KEYS';

/** A KEK is 32 random bytes, written in base64url (or base64). */
const ENCODED_KEK = /^[A-Za-z0-9+/_-]{43}=?$/;

export interface KeyEncryptionKey {
  /** Public fingerprint of the key: safe to store and print. */
  readonly id: string;
  readonly key: Buffer;
  /** Where it came from, for error messages: a setting name or a file path. */
  readonly source: string;
}

export class KeyEncryptionError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'KeyEncryptionError';
  }
}

/** 8 bytes of SHA-256 of the key: names it without revealing it. */
const fingerprint = (key: Buffer): string => createHash('sha256').update('portcullis key-encryption key id\0').update(key).digest('base64url').slice(0, 11);

export function keyEncryptionKey(key: Uint8Array, source: string): KeyEncryptionKey {
  if (key.length !== KEK_BYTES) throw new KeyEncryptionError(`${source}: a key-encryption key is ${KEK_BYTES} bytes, got ${key.length}`);
  const bytes = Buffer.from(key);
  return { id: fingerprint(bytes), key: bytes, source };
}

/** Parses an encoded KEK; the error names `source` and never echoes the value. */
export function parseKeyEncryptionKey(encoded: string, source: string): KeyEncryptionKey {
  const text = encoded.trim();
  if (!ENCODED_KEK.test(text)) throw new KeyEncryptionError(`${source} must be ${KEK_BYTES} random bytes in base64url (43 characters), e.g. the output of \`openssl rand -base64 32\``);
  return keyEncryptionKey(Buffer.from(text, 'base64'), source);
}

export const isEncodedKeyEncryptionKey = (value: string): boolean => ENCODED_KEK.test(value.trim());

export const newKeyEncryptionKeyText = (): string => randomBytes(KEK_BYTES).toString('base64url');

/** True for a value this module sealed (of any KEK); a value of an earlier version is plaintext. */
export const isSealed = (value: string): boolean => value.startsWith(`${VERSION}.`);

/** The id of the KEK that sealed `value`, or null when it is not sealed. */
export function sealedUnder(value: string): string | null {
  return isSealed(value) ? (value.split('.')[1] ?? null) : null;
}

/**
 * The current KEK, which seals, and previous ones, which only open (the rotation path: set the new key,
 * keep the old one in `PORTCULLIS_PREVIOUS_KEY_ENCRYPTION_KEYS`, run `portcullis keys rewrap`, drop it).
 */
export class KeyRing {
  readonly current: KeyEncryptionKey;
  readonly #byId: Map<string, KeyEncryptionKey>;

  constructor(current: KeyEncryptionKey, previous: readonly KeyEncryptionKey[] = []) {
    this.current = current;
    this.#byId = new Map([...previous, current].map((k) => [k.id, k]));
  }

  /** A ring with a fresh random KEK that lives only in this process: for `:memory:` databases. */
  static ephemeral(): KeyRing {
    return new KeyRing(keyEncryptionKey(randomBytes(KEK_BYTES), 'a key kept in memory'));
  }

  /**
   * A ring whose only key is derived from a secret the database never holds (e.g. a value that lives
   * in a cookie and is stored only as a hash): what it seals, storage alone cannot open.
   */
  static derivedFrom(secret: string, label: string): KeyRing {
    return new KeyRing(keyEncryptionKey(createHmac('sha256', secret).update(`portcullis ${label}`).digest(), label));
  }

  knows(kekId: string): boolean {
    return this.#byId.has(kekId);
  }

  seal(purpose: string, plaintext: string): string {
    const { id, key } = this.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad(id, purpose));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, id, iv.toString('base64url'), sealed.toString('base64url')].join('.');
  }

  /** The plaintext of a sealed value; a clear error (naming the settings) when it cannot be opened. */
  open(purpose: string, value: string): string {
    const parts = value.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new KeyEncryptionError(`The stored ${purpose} is not encrypted; it was written without a key-encryption key`);
    const [, id, ivText, sealedText] = parts as [string, string, string, string];
    const kek = this.#byId.get(id);
    if (!kek) throw this.unknownKey(id);
    const iv = Buffer.from(ivText, 'base64url');
    const sealed = Buffer.from(sealedText, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(id, purpose));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new KeyEncryptionError(`The stored ${purpose} does not decrypt with key-encryption key ${id} (${kek.source}): it was altered or moved from another row`);
    }
  }

  /** True when `value` is sealed under the current KEK (nothing for `keys rewrap` to do). */
  isCurrent(value: string): boolean {
    return sealedUnder(value) === this.current.id;
  }

  unknownKey(kekId: string): KeyEncryptionError {
    return new KeyEncryptionError(
      `The database's secrets are encrypted with key-encryption key ${kekId}, but ${KEK_SETTING} is key ${this.current.id} (${this.current.source})` +
        ` and ${PREVIOUS_KEKS_SETTING} does not hold ${kekId}. Start with the key this database was created with` +
        ` (set ${KEK_SETTING}, or restore its key file), or add it to ${PREVIOUS_KEKS_SETTING} while rotating.`,
    );
  }
}

/** The header is authenticated too, so a value cannot be relabelled with another key id. */
const aad = (kekId: string, purpose: string): Buffer => Buffer.from(`${VERSION}.${kekId}.${purpose}`, 'utf8');
