import { effectiveScopes } from '../resource/scopes.ts';
import type { PermissionPolicy } from '../resource/types.ts';
import { compilePatterns } from './patterns.ts';
import type { PolicyCaller, PolicyDecision, PolicyRule, PolicyTarget, PolicyTargetKind } from './types.ts';

export interface ToolPolicyOptions {
  /** The rules, each applying to the targets it names; a target must satisfy every rule that names it. */
  rules?: readonly PolicyRule[];
  /**
   * A target no rule names: `allow` (default; the server's own per-tool scopes still apply) or
   * `deny` (only what the rules name may be used).
   */
  defaultEffect?: 'allow' | 'deny';
  /** Scopes the MCP server itself declares for a target (its tools' `requiredScopes`): an implicit rule. */
  declaredScopes?: (target: PolicyTarget) => readonly string[];
  /** Scope hierarchy (MCP RS-15): a scope on the left grants the scopes on the right. Default none. */
  scopeImplications?: Readonly<Record<string, readonly string[]>>;
  /** Decides `permission` rules: which scopes grant a `{resource_id, action}` (Stytch RBAC). */
  permissions?: PermissionPolicy;
}

/** The policy decision point: one per MCP endpoint, shared by every request. */
export interface ToolPolicy {
  decide(caller: PolicyCaller, target: PolicyTarget): Promise<PolicyDecision>;
  /**
   * The scopes a target needs whoever asks: the declared ones and those of the rules naming it
   * (not permissions, which depend on the authorization server's policy). For a `401`'s `scope`
   * (RS-04), so a client signing in asks for enough at once.
   */
  scopesFor(target: PolicyTarget): readonly string[];
  /** Whether any rule looks at groups: a caller's groups need only be looked up when one does. */
  readonly usesGroups: boolean;
}

interface CompiledRule {
  rule: PolicyRule;
  names: Record<PolicyTargetKind, ((name: string) => boolean) | null>;
}

const ALLOW: PolicyDecision = Object.freeze({ effect: 'allow' });
const NONE: readonly string[] = Object.freeze([]);

/**
 * Builds the decision point. For a target it collects what every rule naming it requires, and
 * answers:
 *
 * - `allow` when all of it holds;
 * - `deny` when something no scope can change fails: a group, an organization, a permission that no
 *   scope of the project grants, or `defaultEffect: 'deny'` for a target no rule names;
 * - otherwise `step-up`, naming every scope the operation needs (RS-13b): the rules' scopes, the
 *   declared scopes and, for a permission, the narrowest scope that grants it.
 */
export function createToolPolicy(options: ToolPolicyOptions = {}): ToolPolicy {
  const rules: CompiledRule[] = (options.rules ?? []).map((rule) => {
    if (rule.permission && !options.permissions) throw new TypeError('a policy rule with a permission needs a permission source (e.g. createStytchVerifier with the project secret)');
    return { rule, names: { tool: compilePatterns(rule.tools), resource: compilePatterns(rule.resources), prompt: compilePatterns(rule.prompts) } };
  });
  const defaultEffect = options.defaultEffect ?? 'allow';
  const implications = options.scopeImplications ?? {};

  const applicableTo = (target: PolicyTarget): PolicyRule[] => rules.filter((r) => r.names[target.kind]?.(target.name) === true).map((r) => r.rule);
  const staticScopes = (target: PolicyTarget, applicable: readonly PolicyRule[]): Set<string> => {
    const required = new Set(options.declaredScopes?.(target) ?? NONE);
    for (const rule of applicable) for (const scope of rule.scopes ?? NONE) required.add(scope);
    return required;
  };

  return {
    usesGroups: rules.some((r) => r.rule.groups !== undefined),
    scopesFor: (target) => [...staticScopes(target, applicableTo(target))],
    async decide(caller, target) {
      const applicable = applicableTo(target);
      if (applicable.length === 0 && defaultEffect === 'deny') return { effect: 'deny', reason: `no policy rule allows the ${target.kind} ${target.name}` };

      for (const rule of applicable) {
        if (rule.groups && !rule.groups.some((g) => caller.groups?.includes(g))) return { effect: 'deny', reason: `the ${target.kind} ${target.name} is for the groups ${rule.groups.join(', ')}` };
        if (rule.organizations && (caller.organizationId === undefined || !rule.organizations.includes(caller.organizationId))) {
          return { effect: 'deny', reason: `the ${target.kind} ${target.name} is not available to this organization` };
        }
      }

      const required = staticScopes(target, applicable);
      const held = effectiveScopes(caller.scopes, implications);
      let missing = [...required].some((s) => !held.has(s));

      for (const rule of applicable) {
        if (!rule.permission) continue;
        const { resource, action } = rule.permission;
        const granting = await options.permissions!.scopesGranting({ resourceId: resource, action });
        // As Stytch's authorization_check: only the token's own scopes count, not what they imply.
        const holding = granting.find((s) => caller.scopes.includes(s));
        if (holding !== undefined) {
          required.add(holding);
          continue;
        }
        if (granting.length === 0) return { effect: 'deny', reason: `no scope grants permission to ${action} ${resource}` };
        required.add(granting[0]!);
        missing = true;
      }
      return missing ? { effect: 'step-up', scopes: [...required] } : ALLOW;
    },
  };
}
