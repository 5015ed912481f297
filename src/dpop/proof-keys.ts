import { calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from 'jose';

/**
 * The public keys proofs embed, imported once per client key: a DPoP client signs every proof
 * with the same key, and importing it (and hashing its thumbprint) is about half of what checking
 * a proof costs (bench/README.md, "DPoP"). Keyed by the exact JWK text and algorithm, so a proof
 * whose `jwk` differs in any member gets its own import. Bounded: the oldest entry goes first.
 */
export interface EmbeddedKey {
  key: CryptoKey;
  /** RFC 7638 SHA-256 thumbprint, what `cnf.jkt` names. */
  jkt: string;
}

const MAX_KEYS = 1000;

export function createEmbeddedKeyCache(maxKeys = MAX_KEYS): (jwk: JWK, alg: string) => Promise<EmbeddedKey | null> {
  const cache = new Map<string, Promise<EmbeddedKey | null>>();
  return (jwk, alg) => {
    const id = `${alg}\n${JSON.stringify(jwk)}`;
    let entry = cache.get(id);
    if (entry === undefined) {
      entry = importPublic(jwk, alg);
      if (cache.size >= maxKeys) cache.delete(cache.keys().next().value as string);
      cache.set(id, entry);
    }
    return entry;
  };
}

/** The key, or null when it is not an asymmetric public key usable with `alg` (as jose's EmbeddedJWK requires). */
async function importPublic(jwk: JWK, alg: string): Promise<EmbeddedKey | null> {
  if (jwk.kty === 'RSA' && !reasonableRsaKey(jwk)) return null;
  try {
    const key = await importJWK(jwk, alg);
    if (key instanceof Uint8Array || key.type !== 'public') return null;
    return { key, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
  } catch {
    return null;
  }
}

/**
 * RSA keys a client may prove with: exponent 65537 and a 2048- to 4096-bit modulus. A huge exponent or
 * modulus costs the verifier milliseconds per proof (a cheap denial of service), and no client needs one.
 */
function reasonableRsaKey(jwk: JWK): boolean {
  if (jwk.e !== 'AQAB' || typeof jwk.n !== 'string') return false;
  const bits = Math.floor((jwk.n.replace(/=+$/, '').length * 6) / 8) * 8;
  return bits >= 2048 && bits <= 4096;
}
