/**
 * Stytch B2B tokens are scoped to one organization: the claim `https://stytch.com/organization`
 * holds its `{organization_id, slug}` (and `sub` is a member id). The SDK's B2B
 * `introspectTokenLocal` reads both and returns them as `organization`.
 */
export const STYTCH_ORGANIZATION_CLAIM = 'https://stytch.com/organization';

export interface StytchOrganization {
  organization_id: string;
  slug: string;
}

/** The organization a token is scoped to, or undefined when it has no well-formed organization claim. */
export function stytchOrganizationOf(claims: Record<string, unknown>): StytchOrganization | undefined {
  const organization = claims[STYTCH_ORGANIZATION_CLAIM];
  if (typeof organization !== 'object' || organization === null || Array.isArray(organization)) return undefined;
  const { organization_id: id, slug } = organization as Record<string, unknown>;
  if (typeof id !== 'string' || id === '' || typeof slug !== 'string') return undefined;
  return { organization_id: id, slug };
}
