import { createHash, createHmac, hash, randomBytes as nodeRandomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

/** Source of randomness; injected so tests can be deterministic where they need to be. */
export type RandomBytes = (length: number) => Uint8Array;
export const systemRandom: RandomBytes = (length) => nodeRandomBytes(length);

export function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

/**
 * An opaque credential: a kind prefix (so logs and secret scanners can spot it) and 256 random bits.
 * Prefixes: `pcc_` authorization code, `pcr_` refresh token, `pcs_` client secret, `pcx_` login session.
 */
export function opaqueToken(prefix: string, random: RandomBytes): string {
  return prefix + base64url(random(32));
}

/** Short random identifier for rows that are not secrets (grant ids, task ids, client ids). */
export function randomId(random: RandomBytes, bytes = 16): string {
  return base64url(random(bytes));
}

/** Storage key for a secret: only this hash is ever written to the database. */
export function hashSecret(value: string): string {
  // One-shot hash: half the cost of createHash().update().digest(), and this runs on every lookup.
  return hash('sha256', value, 'base64url');
}

/** A key used for many HMACs may be imported once (`createSecretKey`): a quarter cheaper per HMAC than a string key. */
export function hmac(key: string | KeyObject, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url');
}

/** Constant-time comparison of two strings (compares their SHA-256 so lengths may differ). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))). */
export function pkceS256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** RFC 7636 §4.1: 43–128 characters from the unreserved set. */
export const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** A S256 challenge is a base64url SHA-256: exactly 43 characters. */
export const PKCE_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;
