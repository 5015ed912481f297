import type { AppContext } from '../context.ts';
import { createDpopNonces, type DpopNonces } from './nonces.ts';
import type { DpopChecker } from '../resource/dpop.ts';
import { DPOP_ALGORITHMS, verifyDpopProof, type DpopReplayCheck } from './proof.ts';

/**
 * DPoP as this server runs it, for its token endpoint and its own resource server alike: the replay
 * check is the store every instance shares (`usedAssertions`, as for client assertions), and server
 * nonces, when `dpopNonces` is on, are MACed with a key in that store, so any instance accepts any
 * instance's nonce and a proof spent on one instance is refused on all. The same checker the
 * library's `createDpopChecker` makes, with the nonce key read from storage on first use.
 */
type DpopContext = Pick<AppContext, 'config' | 'storage' | 'clock' | 'secrets'>;

export function createAppDpop(ctx: DpopContext): DpopChecker {
  const replay: DpopReplayCheck = (key, expiresAt) => ctx.storage.usedAssertions.markUsed(key, expiresAt, ctx.clock.now());
  let nonces: Promise<DpopNonces> | undefined;
  const nonceSource = (): Promise<DpopNonces> | undefined => {
    if (!ctx.config.dpopNonces) return undefined;
    if (!nonces) {
      const loading = ctx.secrets.dpopNonceKey().then((key) => createDpopNonces({ key, clock: ctx.clock }));
      nonces = loading;
      // A failed read (storage briefly down) is retried on the next request, not kept until restart.
      loading.catch(() => {
        if (nonces === loading) nonces = undefined;
      });
    }
    return nonces;
  };
  return {
    required: ctx.config.dpopRequired,
    algorithms: DPOP_ALGORITHMS,
    async currentNonce() {
      return (await nonceSource())?.current();
    },
    async verify(request) {
      const source = nonceSource();
      return verifyDpopProof({ ...request, now: ctx.clock.now(), replay, algorithms: DPOP_ALGORITHMS, ...(source ? { nonces: await source } : {}) });
    },
  };
}
