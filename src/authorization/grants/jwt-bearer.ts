import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import { userForUpstreamIdentity } from '../../identity/external-users.ts';
import { VerifierUnavailableError } from '../../resource/types.ts';
import { seconds } from '../../util/clock.ts';
import { sameResource } from '../authorize/resource.ts';
import { parseScope } from '../../resource/scopes.ts';
import { JWT_BEARER_GRANT } from '../capabilities.ts';
import { replayKey } from '../clients/private-key-jwt.ts';
import { trustedIssuer } from '../trusted-issuers.ts';
import type { GrantType } from './grant-type.ts';
import { singleTokenResponse } from './issue.ts';
import { refuseBuiltInScopes, requestedResource, requestedScopes } from './token-request.ts';

/** EMA-03 / ID-JAG draft §3: the explicit type of an Identity Assertion JWT Authorization Grant (RFC 8725 §3.11). */
export const ID_JAG_TYP = 'oauth-id-jag+jwt';
/** The provider kind under which ID-JAG subjects are linked to local users. */
export const ID_JAG_PROVIDER = 'id-jag';
/** EMA-06 / EMA-11: small clock skew, 30 s as in the conformance suite. */
const CLOCK_SKEW_S = 30;
/** EMA-06: ID-JAGs are short-lived (the draft suggests minutes); one valid for longer is refused. */
const MAX_LIFETIME_S = 600;
const MAX_JTI_LENGTH = 256;

/** One description for every unusable assertion; the reason goes to the log only. */
const INVALID = 'The assertion is not a valid identity assertion authorization grant for this server.';
const invalidGrant = (detail: string): OAuthError => new OAuthError('invalid_grant', INVALID, { detail });

/**
 * The JWT bearer grant (RFC 7523 §2.1) with an ID-JAG assertion: MCP enterprise-managed
 * authorization (EMA-01..EMA-11). An enterprise IdP we trust vouches that its user may use this
 * client with one of our resources; we issue an access token for that user, that resource and the
 * scopes both sides agree on.
 *
 * - The client authenticated at the token endpoint as registered (a confidential client: a secret
 *   or `private_key_jwt`; an ID-JAG alone must not be enough to act as the client), and the ID-JAG's
 *   `client_id` names that same client (EMA-02).
 * - Header `typ` = `oauth-id-jag+jwt` (EMA-03); signature by a key of a trusted IdP with an
 *   asymmetric algorithm, never `none` (EMA-04); `iss` that IdP; `aud` our issuer, with or without a
 *   trailing slash (EMA-05, EMA-11); `exp`/`iat` within a short window with 30 s of skew, and `jti`
 *   used once (EMA-06).
 * - `resource` must be one of our resources (EMA-05); the token is bound to it (EMA-07).
 * - Scopes (EMA-08): the requested ones (default: the ID-JAG's) intersected with the ID-JAG's; an
 *   empty result is `invalid_scope`. An ID-JAG without `scope` places no limit of its own (the
 *   conformance IdP issues none); the request, or our default scopes, then decide.
 * - `sub` is linked to a local user by (issuer, sub) (EMA-10), created on first use.
 * - No refresh token: the client gets a fresh ID-JAG from the IdP instead, so the IdP stays in
 *   control of every renewal (the point of enterprise-managed authorization).
 *
 * The assertion itself is never logged (EMA-09).
 */
export const jwtBearerGrant: GrantType = {
  name: JWT_BEARER_GRANT,

  permits: (client) => client.tokenEndpointAuthMethod !== 'none' && client.grantTypes.includes(JWT_BEARER_GRANT),

  async handle(ctx, client, form, key) {
    const assertion = form.require('assertion');
    const claims = await verifyIdJag(ctx, assertion);

    if (claims.client_id !== client.clientId) throw invalidGrant('ID-JAG client_id is not the authenticated client');
    const resource = [ctx.config.resource, ...ctx.config.resources].find((r) => sameResource(r, claims.resource));
    if (resource === undefined) throw invalidGrant('ID-JAG resource is not one of ours');
    const named = requestedResource(ctx, form);
    if (named !== null && named !== resource) throw new OAuthError('invalid_target', 'The resource parameter differs from the resource of the assertion.');

    const scopes = grantedScopes(ctx, requestedScopes(ctx, form), claims.scope);

    const now = ctx.clock.now();
    if (!(await ctx.storage.usedAssertions.markUsed(replayKey('id-jag', claims.iss, claims.jti), (claims.exp + CLOCK_SKEW_S) * 1000, now))) {
      throw invalidGrant('ID-JAG replayed (jti already used)');
    }

    const { user, created } = await userForUpstreamIdentity(ctx, { provider: ID_JAG_PROVIDER, issuer: claims.iss, subject: claims.sub, email: claims.email });
    const { body, grant } = await singleTokenResponse(ctx, { subject: user.id, clientId: client.clientId, scopes, resource, dpopJkt: key });
    ctx.logger.audit('token.issued', {
      grant_type: JWT_BEARER_GRANT,
      client_id: client.clientId,
      user_id: user.id,
      user_created: created,
      idp: claims.iss,
      grant_id: grant.id,
      scope: body.scope,
      resource,
    });
    return body;
  },
};

interface IdJagClaims {
  iss: string;
  sub: string;
  client_id: string;
  resource: string;
  jti: string;
  exp: number;
  /** Space-separated, or null when the ID-JAG sets no scope limit. */
  scope: string | null;
  email: string | null;
}

/** EMA-03..EMA-06: the checks that need only the assertion. Throws `invalid_grant`. */
async function verifyIdJag(ctx: AppContext, assertion: string): Promise<IdJagClaims> {
  let typ: unknown;
  let unverifiedIssuer: unknown;
  try {
    typ = decodeProtectedHeader(assertion).typ;
    unverifiedIssuer = decodeJwt(assertion).iss;
  } catch {
    throw invalidGrant('assertion is not a JWT');
  }
  // Checked before any key is looked up, so an access token or ID token can never pass for an ID-JAG.
  if (typeof typ !== 'string' || typ.toLowerCase() !== ID_JAG_TYP) throw invalidGrant(`typ is ${String(typ)}, not ${ID_JAG_TYP}`);
  const idp = typeof unverifiedIssuer === 'string' ? trustedIssuer(ctx, unverifiedIssuer) : null;
  if (!idp) throw invalidGrant('ID-JAG issuer is not a trusted identity provider');

  const now = ctx.clock.now();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, idp.keys, {
      algorithms: [...ctx.capabilities.clientAssertionSigningAlgorithms],
      typ: ID_JAG_TYP,
      issuer: idp.issuer,
      audience: [ctx.config.issuer, `${ctx.config.issuer}/`],
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      clockTolerance: CLOCK_SKEW_S,
      currentDate: new Date(now),
    }));
  } catch (error) {
    if (error instanceof VerifierUnavailableError) {
      throw new OAuthError('temporarily_unavailable', 'The identity provider\'s keys cannot be fetched right now. Try again later.', { detail: error.message });
    }
    if (error instanceof errors.JOSEError) throw invalidGrant(`${error.code}: ${error.message}`);
    throw error;
  }

  const { sub, jti, exp, iat } = payload as { sub: unknown; jti: unknown; exp: number; iat: number };
  if (iat > seconds(now) + CLOCK_SKEW_S) throw invalidGrant('iat is in the future');
  if (exp - iat > MAX_LIFETIME_S || exp > seconds(now) + MAX_LIFETIME_S + CLOCK_SKEW_S) throw invalidGrant(`ID-JAG valid for more than ${MAX_LIFETIME_S} s`);
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw invalidGrant('jti must be a non-empty string');
  // RFC 7519 §4.1.2: a string. jose only checks that it is present, and sub is the key the user is
  // linked by (EMA-10): a number or object must not reach storage or match anyone.
  if (typeof sub !== 'string' || sub === '') throw invalidGrant('sub must be a non-empty string');
  const clientId = payload['client_id'];
  const resource = payload['resource'];
  const scope = payload['scope'];
  if (typeof clientId !== 'string') throw invalidGrant('client_id claim missing');
  if (typeof resource !== 'string') throw invalidGrant('resource claim missing');
  if (scope !== undefined && typeof scope !== 'string') throw invalidGrant('scope claim is not a string');
  const email = payload['email'];
  return {
    iss: idp.issuer,
    sub,
    client_id: clientId,
    resource,
    jti,
    exp,
    scope: scope ?? null,
    // Only a label for a new user; never used to find one (UP-06, EMA-10).
    email: typeof email === 'string' && payload['email_verified'] !== false ? email : null,
  };
}

/** EMA-08: requested ∩ ID-JAG scopes, within what we offer; never `openid`, `offline_access` or the identity scopes. */
function grantedScopes(ctx: AppContext, requested: string[] | null, jagScope: string | null): string[] {
  const offered = ctx.config.scopes.map((s) => s.name);
  const limit = jagScope === null ? null : parseScope(jagScope);
  if (requested !== null) refuseBuiltInScopes(requested, 'jwt-bearer', offered);
  const wanted = requested ?? limit?.filter((s) => offered.includes(s)) ?? ctx.config.defaultScopes;
  const scopes = limit === null ? wanted : wanted.filter((s) => limit.includes(s));
  if (scopes.length === 0) throw new OAuthError('invalid_scope', 'None of the requested scopes is allowed by the assertion.');
  return scopes;
}
