import type { AppContext } from '../../context.ts';
import { OAuthError } from '../../errors/oauth-error.ts';
import type { ClientRecord } from '../../storage/types.ts';

/** The key a token request proved it holds (RFC 9449 §5): its JWK SHA-256 thumbprint, or null without a proof. */
export type TokenRequestKey = string | null;

/**
 * RFC 9449 §5 at the token endpoint, for every grant: a `DPoP` header is checked against this
 * endpoint as metadata publishes it (`htu` names the issuer's public URL, not whatever URL a proxy
 * forwarded to), and its key is what the new tokens get bound to. Without one the request is a
 * bearer request, unless DPoP is required by the server (`dpopRequired`) or by the client's own
 * registration (`dpop_bound_access_tokens`, §5.2).
 */
export async function tokenRequestKey(ctx: AppContext, client: ClientRecord, proof: string | null): Promise<TokenRequestKey> {
  if (proof === null) {
    if (ctx.dpop.required || client.dpopBoundAccessTokens) {
      throw await dpopError(ctx, 'invalid_dpop_proof', 'This client must use DPoP: send a DPoP proof with the token request (RFC 9449).');
    }
    return null;
  }
  const result = await ctx.dpop.verify({ proof, method: 'POST', url: ctx.capabilities.endpoints.token });
  if (result.ok) return result.jkt;
  if (result.error === 'use_dpop_nonce') {
    throw await dpopError(ctx, 'use_dpop_nonce', 'The DPoP proof must carry the nonce this server sends in DPoP-Nonce.', result.detail);
  }
  throw await dpopError(ctx, 'invalid_dpop_proof', 'The DPoP proof is invalid.', result.detail);
}

/**
 * The `DPoP-Nonce` to send with any token endpoint answer when nonces are on (RFC 9449 §8): on a
 * `use_dpop_nonce` refusal the client needs it to retry, and on success it saves the next request a
 * round trip.
 */
export async function nonceHeader(ctx: AppContext): Promise<Record<string, string>> {
  const nonce = await ctx.dpop.currentNonce();
  return nonce === undefined ? {} : { 'DPoP-Nonce': nonce };
}

async function dpopError(ctx: AppContext, code: 'invalid_dpop_proof' | 'use_dpop_nonce', description: string, detail?: string): Promise<OAuthError> {
  return new OAuthError(code, description, { headers: await nonceHeader(ctx), ...(detail !== undefined ? { detail } : {}) });
}
