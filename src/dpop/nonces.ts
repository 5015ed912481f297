import type { KeyObject } from 'node:crypto';
import { hmac, safeEqual } from '../util/crypto.ts';
import type { DpopNonceCheck } from './proof.ts';

/**
 * Server nonces (RFC 9449 §8, §9) without state: a nonce is a time step and its MAC under a key every
 * instance shares, so a nonce one instance hands out is accepted by all of them, and nothing is stored.
 * A nonce is good for the step it was made in and the next one, so it lives between one and two steps.
 */
export interface DpopNonces extends DpopNonceCheck {
  /** The nonce to send now in `DPoP-Nonce`. */
  current(): string;
}

/** Default step: a client refreshes its nonce at most this often (RFC 9449 leaves the lifetime to the server). */
export const DEFAULT_NONCE_STEP_S = 300;

export function createDpopNonces(options: { key: string | KeyObject; clock: { now(): number }; stepSeconds?: number }): DpopNonces {
  const stepMs = (options.stepSeconds ?? DEFAULT_NONCE_STEP_S) * 1000;
  const step = (): number => Math.floor(options.clock.now() / stepMs);
  const nonceFor = (n: number): string => `${n.toString(36)}.${hmac(options.key, 'dpop-nonce:' + n).slice(0, 22)}`;
  return {
    current: () => nonceFor(step()),
    isValid(nonce) {
      const dot = nonce.indexOf('.');
      if (dot < 1 || nonce.length > 64) return false;
      const n = Number.parseInt(nonce.slice(0, dot), 36);
      const now = step();
      if (!Number.isSafeInteger(n) || (n !== now && n !== now - 1)) return false;
      return safeEqual(nonce, nonceFor(n));
    },
  };
}
