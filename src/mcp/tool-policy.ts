import type { AppContext } from '../context.ts';
import { policyCallerFrom } from '../policy/caller.ts';
import { createToolPolicy, type ToolPolicy } from '../policy/decide.ts';
import { createMcpPolicyGuard, dpopAlgorithmsOf, type McpPolicyGuard } from '../policy/enforce.ts';
import type { PolicyCaller } from '../policy/types.ts';
import { isResourceOnly } from '../resource/external.ts';
import type { ResourceServer } from '../resource/resource-server.ts';
import { SCOPE_IMPLICATIONS } from '../resource/scopes.ts';
import type { Principal } from '../resource/types.ts';
import type { McpBackend } from './backend.ts';

export interface EndpointPolicy {
  readonly policy: ToolPolicy;
  readonly guard: McpPolicyGuard;
  /** The policy's view of the caller: the token's scopes and claims, and a local account's groups. */
  callerFor(principal: Principal): Promise<PolicyCaller>;
}

/**
 * The tool policy of this server's MCP endpoint, from `toolPolicy` and the backend: the built-in
 * tools' and the gateway's `toolScopes` are the declared scopes every call needs anyway; Stytch
 * RBAC (`permission` rules) is decided by the resource server's permission source (its verifier's),
 * and challenges name its Protected Resource Metadata.
 *
 * Groups: the token's `groupsClaim` (an external authorization server's tokens), and for tokens
 * of our own authorization server the account's groups, read from storage on each request that
 * needs a decision, so a change (`portcullis users groups`) takes effect at once.
 */
export function createEndpointPolicy(ctx: AppContext, backend: McpBackend, resourceServer: Pick<ResourceServer, 'resourceMetadataUrl' | 'permissions' | 'metadata'>): EndpointPolicy {
  const { config, storage } = ctx;
  const settings = config.toolPolicy;
  // resolveConfig has checked that permission rules come with the Stytch verifier and its secret.
  const hasPermissionRules = settings.rules.some((r) => r.permission !== undefined);
  const policy = createToolPolicy({
    rules: settings.rules,
    public: settings.public,
    defaultEffect: settings.default,
    declaredScopes: (target) => (target.kind === 'tool' ? backend.requiredScopes([target.name]) : []),
    scopeImplications: SCOPE_IMPLICATIONS,
    ...(hasPermissionRules && resourceServer.permissions ? { permissions: resourceServer.permissions } : {}),
  });
  const guard = createMcpPolicyGuard({ policy, resourceMetadataUrl: resourceServer.resourceMetadataUrl, ...dpopAlgorithmsOf(resourceServer), filterLists: settings.filterLists, logger: ctx.logger });
  const localAccounts = !isResourceOnly(config);
  return {
    policy,
    guard,
    async callerFor(principal) {
      const groups = policy.usesGroups && localAccounts ? await storage.users.groups(principal.subject) : [];
      return policyCallerFrom(principal, { groupsClaim: settings.groupsClaim, groups });
    },
  };
}
