import { systemClock, type Clock } from '../../util/clock.ts';
import { VerifierUnavailableError, type TokenVerifier, type VerifyResult } from '../types.ts';
import { withVerifiedTokenCache } from './cached.ts';
import { verifiedTokenFromClaims } from './claims.ts';
import { cachedDiscovery } from './discovery.ts';
import { asObject, fetchJson, type FetchLimits } from './fetch-json.ts';
import { discoveredUrl, httpUrl } from './option-checks.ts';

export interface IntrospectionVerifierOptions extends FetchLimits {
  /** The RFC 7662 endpoint. Omitted: `introspection_endpoint` from the issuer's metadata. */
  endpoint?: string;
  /** The authorization server. Needed for discovery; when given, a returned `iss` must equal it. */
  issuer?: string;
  /** This resource server's credentials at the authorization server (RFC 7662 §2.1 requires them). */
  clientId: string;
  clientSecret: string;
  /** How to send them (RFC 6749 §2.3.1). Default `client_secret_basic`. */
  clientAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  /**
   * Your MCP server's resource URL. When the authorization server returns `aud`, it must contain
   * this (MCP RS-08). `requireAudience: true` also refuses answers without `aud`.
   */
  audience?: string;
  requireAudience?: boolean;
  /**
   * How long an `active` answer is reused (never past the token's `exp`). Default 30 s: a revoked
   * token stops working within this time.
   */
  cacheTtlMs?: number;
  /** Leeway for `exp` and `nbf` in the answer, in seconds. Default 0. */
  clockToleranceSeconds?: number;
  fetch?: typeof fetch;
  clock?: Clock;
}

/**
 * Verifies opaque (or any) access tokens by asking the authorization server (RFC 7662). Inactive →
 * refused; an active token must carry `sub`, `client_id` and `exp`, must not be a refresh token, and
 * must be meant for this resource when `aud` says so. Active answers are cached briefly; an
 * unreachable or failing endpoint is `VerifierUnavailableError` (503), never a refusal of the token.
 */
export function createIntrospectionVerifier(options: IntrospectionVerifierOptions): TokenVerifier {
  const clock = options.clock ?? systemClock;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const limits: FetchLimits = { timeoutMs: options.timeoutMs, maxBytes: options.maxBytes };
  if (!options.clientId || !options.clientSecret) throw new TypeError('clientId and clientSecret are required: RFC 7662 §2.1 requires the resource server to authenticate');
  const method = options.clientAuthMethod ?? 'client_secret_basic';
  const tolerance = options.clockToleranceSeconds ?? 0;
  const endpoint = resolveEndpoint(options, fetchFn, clock, limits);

  const verifier: TokenVerifier = {
    async verify(token): Promise<VerifyResult> {
      const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
      const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
      if (method === 'client_secret_basic') {
        headers['Authorization'] = `Basic ${btoa(`${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`)}`;
      } else {
        form.set('client_id', options.clientId);
        form.set('client_secret', options.clientSecret);
      }
      const url = await endpoint();
      const { status, body } = await fetchJson(fetchFn, url, { method: 'POST', headers, body: form.toString() }, limits);
      const answer = asObject(body);
      // Some servers refuse to introspect tokens they never introspect (oidc-provider: its own JWTs)
      // with RFC 7009's `unsupported_token_type` instead of `active: false`: a refusal of the token, not an outage.
      if (status === 400 && answer?.['error'] === 'unsupported_token_type') return { ok: false, reason: 'inactive', detail: 'unsupported_token_type' };
      if (status !== 200 || !answer) throw new VerifierUnavailableError(`introspection at ${url} answered ${status}`);
      return judge(answer);
    },
  };

  const judge = (answer: Record<string, unknown>): VerifyResult => {
    if (answer['active'] !== true) return { ok: false, reason: 'inactive' };
    // RFC 7662 lets an authorization server introspect refresh tokens too; one is not a bearer credential here.
    if (typeof answer['token_type'] === 'string' && answer['token_type'].toLowerCase() === 'refresh_token') {
      return { ok: false, reason: 'inactive', detail: 'a refresh token' };
    }
    const now = clock.now() / 1000;
    if (typeof answer['exp'] === 'number' && answer['exp'] <= now - tolerance) return { ok: false, reason: 'expired' };
    if (typeof answer['nbf'] === 'number' && answer['nbf'] > now + tolerance) return { ok: false, reason: 'not_yet_valid' };
    if (options.issuer !== undefined && answer['iss'] !== undefined && answer['iss'] !== options.issuer) return { ok: false, reason: 'wrong_issuer' };
    if (options.audience !== undefined) {
      const aud = answer['aud'];
      const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
      if (audiences ? !audiences.includes(options.audience) : options.requireAudience === true) return { ok: false, reason: 'wrong_audience' };
    }
    return verifiedTokenFromClaims(answer);
  };

  return withVerifiedTokenCache(verifier, { clock, maxAgeMs: options.cacheTtlMs ?? 30_000 });
}

function resolveEndpoint(options: IntrospectionVerifierOptions, fetchFn: typeof fetch, clock: Clock, limits: FetchLimits): () => Promise<string> {
  if (options.endpoint !== undefined) {
    const endpoint = httpUrl(options.endpoint, 'endpoint');
    return async () => endpoint;
  }
  if (options.issuer === undefined) throw new TypeError('give the introspection endpoint, or the issuer to discover it from');
  const issuer = options.issuer;
  const metadata = cachedDiscovery(issuer, { ...limits, fetch: fetchFn, clock });
  return async () => {
    const { introspection_endpoint: endpoint } = await metadata();
    try {
      return discoveredUrl(endpoint, `introspection_endpoint in the metadata of ${issuer}`, issuer);
    } catch (cause) {
      throw new VerifierUnavailableError(`the metadata of ${issuer} has no usable introspection_endpoint`, { cause });
    }
  };
}

/** RFC 6749 §2.3.1: client credentials are form-urlencoded before they go into Basic. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
