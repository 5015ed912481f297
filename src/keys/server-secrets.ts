import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Storage } from '../storage/types.ts';
import { randomId, type RandomBytes } from '../util/crypto.ts';

/**
 * The server's own secrets that live in storage as settings (sealed there: src/storage/sql/sealed-secrets.ts),
 * one per database and shared by every instance: the first to need one stores it, the others read it.
 * Read once per app and kept; a failed read is retried on the next use rather than kept.
 */
export interface ServerSecrets {
  /** The key login-form CSRF tokens and sealed pre-login state are MACed with (src/identity/csrf.ts). */
  loginCsrfKey(): Promise<string>;
  /** The key refresh-token family tags and successors are derived with (src/authorization/grants/refresh-secrets.ts), imported once. */
  refreshSuccessorKey(): Promise<KeyObject>;
  /** The key DPoP server nonces are MACed with (src/dpop/nonces.ts): one per database, so every instance accepts every instance's nonces. */
  dpopNonceKey(): Promise<KeyObject>;
}

/** Setting names, as stored: existing databases hold them under these names. */
const LOGIN_CSRF_KEY = 'login_csrf_key';
const REFRESH_SUCCESSOR_KEY = 'refresh-successor-key';
const DPOP_NONCE_KEY = 'dpop-nonce-key';

export function createServerSecrets(storage: Storage, random: RandomBytes): ServerSecrets {
  return {
    loginCsrfKey: storedSecret(storage, LOGIN_CSRF_KEY, () => randomId(random, 32)),
    refreshSuccessorKey: imported(storedSecret(storage, REFRESH_SUCCESSOR_KEY, () => randomId(random, 32))),
    dpopNonceKey: imported(storedSecret(storage, DPOP_NONCE_KEY, () => randomId(random, 32))),
  };
}

function storedSecret(storage: Storage, name: string, create: () => string): () => Promise<string> {
  let value: Promise<string> | undefined;
  return () => {
    if (!value) {
      const reading = storage.settings.putIfAbsent(name, create());
      value = reading;
      reading.catch(() => {
        if (value === reading) value = undefined;
      });
    }
    return value;
  };
}

/** The secret as an HMAC key object, imported on first use and kept (node:crypto imports a string key on every HMAC). */
function imported(secret: () => Promise<string>): () => Promise<KeyObject> {
  let key: Promise<KeyObject> | undefined;
  return () => {
    if (!key) {
      const importing = secret().then((value) => createSecretKey(value, 'utf8'));
      key = importing;
      importing.catch(() => {
        if (key === importing) key = undefined;
      });
    }
    return key;
  };
}
