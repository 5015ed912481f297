import type { Clock } from '../../util/clock.ts';
import { VerifierUnavailableError, type PermissionCheck, type PermissionPolicy } from '../types.ts';
import { asObject, fetchJson, type FetchLimits } from './fetch-json.ts';

/** A custom scope of a Stytch RBAC policy: `{scope, permissions: [{resource_id, actions}]}`. */
export interface StytchPolicyScope {
  scope: string;
  permissions: { resource_id: string; actions: string[] }[];
}

export interface StytchPolicySource extends FetchLimits {
  /** `GET <base>/v1/rbac/policy`. */
  policyUrl: string;
  projectId: string;
  secret: string;
  fetch: typeof fetch;
  clock: Clock;
  /** How long a fetched policy is used. Default five minutes, as Stytch's SDKs do. */
  ttlMs?: number;
}

/**
 * Stytch RBAC over the project's policy, the way the SDK's `authorization_check` decides: a token may
 * perform `{resource_id, action}` when ANY of its scopes is a policy scope with a permission on that
 * resource whose actions include the action or `*`. Only the token's scopes count, not the user's
 * current roles (Stytch checked those when the scope was granted).
 */
export function stytchPermissionPolicy(source: StytchPolicySource): PermissionPolicy {
  const loadPolicy = cachedPolicy(source);
  return {
    async scopesGranting(check: PermissionCheck): Promise<string[]> {
      const scopes = (await loadPolicy()).filter((s) => s.permissions.some((p) => grants(p, check)));
      // Narrowest first, so a step-up challenge asks for no more than it must (least privilege).
      return scopes
        .map((s, order) => ({ scope: s.scope, breadth: breadth(s), order }))
        .sort((a, b) => a.breadth - b.breadth || a.order - b.order)
        .map((s) => s.scope);
    },
  };
}

function grants(permission: StytchPolicyScope['permissions'][number], check: PermissionCheck): boolean {
  return permission.resource_id === check.resourceId && (permission.actions.includes(check.action) || permission.actions.includes('*'));
}

function breadth(scope: StytchPolicyScope): number {
  return scope.permissions.reduce((sum, p) => sum + (p.actions.includes('*') ? 1_000 : p.actions.length), 0);
}

function cachedPolicy(source: StytchPolicySource): () => Promise<StytchPolicyScope[]> {
  const ttlMs = source.ttlMs ?? 5 * 60_000;
  let cached: { scopes: StytchPolicyScope[]; at: number } | undefined;
  let pending: Promise<StytchPolicyScope[]> | undefined;
  return async () => {
    if (cached && source.clock.now() - cached.at < ttlMs) return cached.scopes;
    pending ??= fetchPolicy(source)
      .then((scopes) => {
        cached = { scopes, at: source.clock.now() };
        return scopes;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

async function fetchPolicy(source: StytchPolicySource): Promise<StytchPolicyScope[]> {
  // Stytch's backend API authenticates with HTTP Basic project_id:secret.
  const authorization = `Basic ${btoa(`${source.projectId}:${source.secret}`)}`;
  const { status, body } = await fetchJson(source.fetch, source.policyUrl, { headers: { Authorization: authorization } }, source);
  const policy = asObject(asObject(body)?.['policy']);
  if (status !== 200 || !policy) throw new VerifierUnavailableError(`the Stytch RBAC policy at ${source.policyUrl} answered ${status}`);
  const scopes = Array.isArray(policy['scopes']) ? policy['scopes'] : [];
  return scopes.flatMap((entry): StytchPolicyScope[] => {
    const scope = asObject(entry);
    if (!scope || typeof scope['scope'] !== 'string' || !Array.isArray(scope['permissions'])) return [];
    const permissions = scope['permissions'].flatMap((p) => {
      const permission = asObject(p);
      const actions = permission?.['actions'];
      if (!permission || typeof permission['resource_id'] !== 'string' || !Array.isArray(actions)) return [];
      return [{ resource_id: permission['resource_id'], actions: actions.filter((a): a is string => typeof a === 'string') }];
    });
    return [{ scope: scope['scope'], permissions }];
  });
}
