import { jwtVerify } from 'jose';
import { systemClock, type Clock } from '../../util/clock.ts';
import type { TokenVerifier, VerifyResult } from '../types.ts';
import { withVerifiedTokenCache, type VerifiedTokenCacheOptions } from './cached.ts';
import { verifiedTokenFromClaims } from './claims.ts';
import type { FetchLimits } from './fetch-json.ts';
import { rejectionFromJoseError } from './jwt-errors.ts';
import { RemoteKeySet } from './remote-key-set.ts';
import { stytchOrganizationOf } from './stytch-organization.ts';
import { stytchPermissionPolicy } from './stytch-rbac.ts';

export interface StytchVerifierOptions extends FetchLimits {
  /** `project-test-…` or `project-live-…`. */
  projectId: string;
  /**
   * Your Stytch project domain (`https://<name>.customers.stytch.dev` or your custom domain): the
   * issuer of tokens obtained through it, and what the seed passes as `custom_base_url`. Omitted:
   * `https://test.stytch.com` or `https://api.stytch.com`, chosen by the project id's prefix.
   */
  projectDomain?: string;
  /** The Stytch SDK's name for `projectDomain`; give one or the other. */
  customBaseUrl?: string;
  /** The project secret. Needed only for RBAC checks (`requirePermission`), which read the project's policy. */
  secret?: string;
  /**
   * Strict mode: `aud` must also contain this value, your MCP server's URL (MCP RS-08). Stytch puts
   * only the project id in `aud` unless the Connected App has this as its custom audience, so turn
   * this on only after configuring that.
   */
  resourceAudience?: string;
  /** Leeway for `exp` and `nbf`, in seconds. Default 0, as Stytch's SDK. */
  clockToleranceSeconds?: number;
  fetch?: typeof fetch;
  clock?: Clock;
  /** Verified-token cache (default: on, five minutes at most); `false` verifies every time. */
  cache?: VerifiedTokenCacheOptions | false;
  /** How long the RBAC policy is used before being fetched again. Default five minutes, as the SDK. */
  policyCacheTtlMs?: number;
  /**
   * A Stytch B2B project, as the SDK's `B2BClient`: keys from `/v1/b2b/sessions/jwks/<project_id>`,
   * the RBAC policy from `/v1/b2b/rbac/policy`, and every token must be scoped to an organization
   * (the `https://stytch.com/organization` claim with `organization_id` and `slug`).
   */
  b2b?: boolean;
}

/** The Stytch API base URL, as the SDK derives it (always ending in `/`). */
export function stytchBaseUrl(options: Pick<StytchVerifierOptions, 'projectId' | 'projectDomain' | 'customBaseUrl'>): string {
  if (options.projectDomain !== undefined && options.customBaseUrl !== undefined && options.projectDomain !== options.customBaseUrl) {
    throw new TypeError('give projectDomain or customBaseUrl, not both');
  }
  const custom = options.projectDomain ?? options.customBaseUrl;
  if (custom === undefined) return options.projectId.startsWith('project-live-') ? 'https://api.stytch.com/' : 'https://test.stytch.com/';
  // Tokens are only as trustworthy as the channel their keys come over.
  if (!custom.startsWith('https://')) throw new TypeError(`projectDomain must be an https URL (got ${JSON.stringify(custom)})`);
  return custom.endsWith('/') ? custom : custom + '/';
}

/**
 * The issuers Stytch puts in `iss`: the domain a token was obtained through (OIDC-conformant), or
 * `stytch.com/<project_id>` for tokens obtained through the legacy API hosts. The SDK accepts both.
 */
export function stytchIssuers(options: Pick<StytchVerifierOptions, 'projectId' | 'projectDomain' | 'customBaseUrl'>): string[] {
  return [`stytch.com/${options.projectId}`, stytchBaseUrl(options).replace(/\/$/, '')];
}

/**
 * Verifies Stytch Connected Apps access tokens, accepting what the `stytch` Node SDK's
 * `idp.introspectTokenLocal` accepts: an RS256 signature by a key from
 * `<base>/v1/sessions/jwks/<project_id>`, `typ: JWT`, `iss` one of `stytchIssuers`, `aud` containing
 * the project id, `exp` and `nbf` checked with the tolerance. Stricter in two ways, since a Connected
 * Apps access token always has them: `exp` and `client_id` must be present (which also refuses
 * Stytch *session* JWTs, signed by the same keys); and, in strict mode, `aud` must name this resource.
 *
 * With `secret`, `permissions` decides RBAC checks as the SDK's `authorization_check` does.
 * With `b2b`, it accepts what the SDK's `B2BClient` accepts (Stytch B2B: organization-scoped tokens).
 */
export function createStytchVerifier(options: StytchVerifierOptions): TokenVerifier {
  if (!/^project-(test|live)-[A-Za-z0-9-]+$/.test(options.projectId)) throw new TypeError(`projectId must look like project-test-… or project-live-… (got ${JSON.stringify(options.projectId)})`);
  const base = stytchBaseUrl(options);
  const issuers = stytchIssuers(options);
  const clock = options.clock ?? systemClock;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const limits: FetchLimits = { timeoutMs: options.timeoutMs, maxBytes: options.maxBytes };
  // `new URL` with an absolute path, as the SDK builds it: any path in the base is replaced.
  const api = options.b2b ? '/v1/b2b' : '/v1';
  const keySet = new RemoteKeySet(new URL(`${api}/sessions/jwks/${options.projectId}`, base).href, { ...limits, fetch: fetchFn, clock });

  const permissions =
    options.secret === undefined
      ? undefined
      : stytchPermissionPolicy({
          ...limits,
          policyUrl: new URL(`${api}/rbac/policy`, base).href,
          projectId: options.projectId,
          secret: options.secret,
          fetch: fetchFn,
          clock,
          ttlMs: options.policyCacheTtlMs,
        });

  const verifier: TokenVerifier = {
    ...(permissions ? { permissions } : {}),
    async verify(token): Promise<VerifyResult> {
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, keySet.getKey, {
          algorithms: ['RS256'],
          typ: 'JWT',
          issuer: issuers,
          audience: options.projectId,
          clockTolerance: options.clockToleranceSeconds ?? 0,
          currentDate: new Date(clock.now()),
        }));
      } catch (error) {
        return rejectionFromJoseError(error);
      }
      if (options.resourceAudience !== undefined) {
        const aud = payload['aud'];
        if (!(aud === options.resourceAudience || (Array.isArray(aud) && aud.includes(options.resourceAudience)))) {
          return { ok: false, reason: 'wrong_audience', detail: 'strict mode: aud does not name this resource' };
        }
      }
      // The B2B SDK reads the organization of every token it introspects; a token without one is not a B2B access token.
      if (options.b2b && !stytchOrganizationOf(payload)) return { ok: false, reason: 'missing_claim', detail: 'a B2B token must carry https://stytch.com/organization' };
      return verifiedTokenFromClaims(payload);
    },
  };
  return options.cache === false ? verifier : withVerifiedTokenCache(verifier, { clock, ...options.cache });
}
