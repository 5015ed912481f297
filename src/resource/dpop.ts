import type { DpopNonces } from '../dpop/nonces.ts';
import { DPOP_ALGORITHMS, JKT_PATTERN, inMemoryReplayCheck, verifyDpopProof, type DpopProofRequest, type DpopProofResult, type DpopReplayCheck } from '../dpop/proof.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { AccessTokenScheme } from './bearer.ts';
import type { TokenClaims } from './types.ts';

/**
 * DPoP (RFC 9449) at a resource server: the options a library user gives, and the checker the
 * resource server runs. DPoP is always accepted; `required` refuses bearer tokens.
 */
export interface ResourceDpopOptions {
  /** Refuse bearer tokens: every token must be DPoP-bound and come with a proof. Default false. */
  required?: boolean;
  /** The proof algorithms accepted (and named in `algs` and the PRM). Default `DPOP_ALGORITHMS`. */
  algorithms?: readonly string[];
  /** Server nonces (RFC 9449 §9, `createDpopNonces`): proofs must carry one, or get `use_dpop_nonce`. Default none. */
  nonces?: DpopNonces;
  /**
   * Single use of each proof. Default: remembered in this process only, which is enough for one
   * instance; several instances behind a load balancer need one they share (a database or Redis
   * `SET NX` with the given expiry), or a proof spent on one is accepted once more on each other.
   */
  replay?: DpopReplayCheck;
  /** For `iat` and the nonce window. Default the system clock. */
  clock?: Clock;
}

/**
 * What a resource server needs of DPoP: `createDpopChecker` builds one from `ResourceDpopOptions`;
 * Portcullis's own endpoint passes its app-wide one (shared replay store and nonces across instances).
 */
export interface DpopChecker {
  readonly required: boolean;
  readonly algorithms: readonly string[];
  /** The nonce a `use_dpop_nonce` challenge hands out. */
  currentNonce(): Promise<string | undefined>;
  verify(request: Pick<DpopProofRequest, 'proof' | 'method' | 'url' | 'accessToken'>): Promise<DpopProofResult>;
}

export function createDpopChecker(options: ResourceDpopOptions | DpopChecker = {}): DpopChecker {
  if (isChecker(options)) return options;
  const clock = options.clock ?? systemClock;
  const algorithms = Object.freeze([...(options.algorithms ?? DPOP_ALGORITHMS)]);
  const replay = options.replay ?? inMemoryReplayCheck(clock);
  const { nonces } = options;
  return {
    required: options.required === true,
    algorithms,
    currentNonce: async () => nonces?.current(),
    verify: (request) => verifyDpopProof({ ...request, algorithms, now: clock.now(), replay, ...(nonces ? { nonces } : {}) }),
  };
}

function isChecker(options: ResourceDpopOptions | DpopChecker): options is DpopChecker {
  return typeof (options as Partial<DpopChecker>).verify === 'function';
}

/**
 * How a token is bound to its holder (RFC 7800 `cnf`): not at all (a bearer token), to a DPoP key
 * (`cnf.jkt`, RFC 9449 §6, from a JWT's claims or an introspection answer alike), or by a confirmation
 * this resource server cannot check (an mTLS certificate thumbprint, RFC 8705; a malformed `jkt`). The
 * last is never accepted: treating it as a bearer token would let whoever copied it use it.
 */
export type TokenBinding = { kind: 'bearer' } | { kind: 'dpop'; jkt: string } | { kind: 'unverifiable' };

export function tokenBinding(claims: TokenClaims): TokenBinding {
  const cnf = claims['cnf'];
  if (cnf === undefined || cnf === null) return { kind: 'bearer' };
  const jkt = typeof cnf === 'object' && cnf !== null && !Array.isArray(cnf) ? (cnf as Record<string, unknown>)['jkt'] : undefined;
  return typeof jkt === 'string' && JKT_PATTERN.test(jkt) ? { kind: 'dpop', jkt } : { kind: 'unverifiable' };
}

/** What presenting a verified token showed (RFC 9449 §7): the key its proof was made with, or why it is refused and under which scheme to say so. */
export type PresentationCheck =
  | { ok: true; jkt?: string }
  | { ok: false; error: 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce'; scheme: AccessTokenScheme; detail: string };

/**
 * RFC 9449 §7, for every endpoint that takes access tokens (the resource server, userinfo): the token
 * decides how it must be presented. A bound token only under `DPoP` with a proof by its key for this
 * request (`ath` included); a bearer token never under `DPoP`; a binding this server cannot check never.
 * Called after the token verified, so a proof sent with a bad token is not spent.
 */
export async function checkPresentation(
  dpop: DpopChecker,
  p: { scheme: AccessTokenScheme; token: string; claims: TokenClaims; proof: string | null | undefined; method?: string | undefined; url?: string | undefined },
): Promise<PresentationCheck> {
  const refuse = (error: 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce', detail: string, scheme: AccessTokenScheme = 'DPoP'): PresentationCheck => ({ ok: false, error, scheme, detail });
  const binding = tokenBinding(p.claims);
  if (binding.kind === 'unverifiable') return refuse('invalid_token', 'a token bound by a confirmation this server cannot check', p.scheme);
  if (p.scheme === 'Bearer') return binding.kind === 'dpop' ? refuse('invalid_token', 'a DPoP-bound token presented as Bearer') : { ok: true };
  if (binding.kind !== 'dpop') return refuse('invalid_token', 'a bearer token presented as DPoP');
  if (p.method === undefined || p.url === undefined) return refuse('invalid_dpop_proof', 'no method and URL to check the proof against');
  const proof = await dpop.verify({ proof: p.proof, method: p.method, url: p.url, accessToken: p.token });
  if (!proof.ok) return refuse(proof.error, proof.detail);
  if (proof.jkt !== binding.jkt) return refuse('invalid_token', 'the proof is signed by another key than the token is bound to');
  return { ok: true, jkt: binding.jkt };
}

/**
 * The URL a proof's `htu` must name. Always on the configured `resource`'s origin, never the
 * request's own `Host`: behind a proxy that is an internal name, and trusting it would let a proof
 * made for another server be replayed here under that server's host name. The path is the
 * request's, so one resource server mounted on several routes checks each route's proofs; on the
 * resource's own path (the MCP endpoint) it is exactly the `resource` URL.
 */
export function proofTarget(resource: string, requestUrl: string): string {
  const base = new URL(resource);
  const path = URL.parse(requestUrl, resource)?.pathname ?? base.pathname;
  return path === base.pathname ? resource : base.origin + path;
}
