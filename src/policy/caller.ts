import type { VerifiedToken } from '../resource/types.ts';
import { stytchOrganizationOf } from '../resource/verifiers/stytch-organization.ts';
import type { PolicyCaller } from './types.ts';

export interface CallerOptions {
  /**
   * The claim holding the person's groups or roles, as an array of strings or a space-separated
   * string (Keycloak, Okta and Entra ID write `groups` or `roles`). Default `groups`; `false`: none.
   */
  groupsClaim?: string | false;
  /** Groups known from elsewhere (local accounts), added to the claim's. */
  groups?: readonly string[];
}

/** The policy's view of a verified token: subject, scopes, groups from the claim, the Stytch B2B organization. */
export function policyCallerFrom(token: Pick<VerifiedToken, 'subject' | 'scopes' | 'claims'>, options: CallerOptions = {}): PolicyCaller {
  const claimName = options.groupsClaim === undefined ? 'groups' : options.groupsClaim;
  const fromClaim = claimName === false ? [] : stringsOf(token.claims[claimName]);
  const groups = options.groups && options.groups.length > 0 ? [...new Set([...fromClaim, ...options.groups])] : fromClaim;
  const organizationId = stytchOrganizationOf(token.claims)?.organization_id;
  return { subject: token.subject, scopes: token.scopes, groups, ...(organizationId !== undefined ? { organizationId } : {}) };
}

function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s.length > 0);
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string' && s.length > 0);
  return [];
}
