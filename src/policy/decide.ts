import { effectiveScopes } from '../resource/scopes.ts';
import type { PermissionPolicy } from '../resource/types.ts';
import { compilePatterns } from './patterns.ts';
import { hasDotSegment } from './resource-uri.ts';
import type { PolicyCaller, PolicyDecision, PolicyRule, PolicyTarget, PolicyTargetKind, PublicTargets } from './types.ts';

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
  /**
   * Targets anyone may use, signed in or not: no rule or declared scope applies to them. Default
   * none: every request needs a token.
   */
  public?: PublicTargets;
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
  /** Whether anyone may use the target without signing in (`public`). */
  isPublic(target: PolicyTarget): boolean;
  /** Whether `public` names anything: only then is a request without a token looked at. */
  readonly hasPublic: boolean;
  /**
   * Whether some signed-in caller could be let through (what a caller without a token is shown, so
   * it knows signing in is worth it): false only for a target no rule names under `defaultEffect: 'deny'`.
   */
  isReachable(target: PolicyTarget): boolean;
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
 *   scope of the project grants, or `defaultEffect: 'deny'` for a target no rule names; and for a
 *   resource URI with a `.` or `..` segment (./resource-uri.ts), whatever the rules say;
 * - otherwise `step-up`, naming every scope the operation needs (RS-13b): the rules' scopes, the
 *   declared scopes and, for a permission, the narrowest scope that grants it.
 */
export function createToolPolicy(options: ToolPolicyOptions = {}): ToolPolicy {
  const rules: CompiledRule[] = (options.rules ?? []).map((rule) => {
    if (rule.permission && !options.permissions) throw new TypeError('a policy rule with a permission needs a permission source (e.g. createStytchVerifier with the project secret)');
    return { rule, names: { tool: compilePatterns(rule.tools), resource: compilePatterns(rule.resources), prompt: compilePatterns(rule.prompts) } };
  });
  const publicNames: Record<PolicyTargetKind, ((name: string) => boolean) | null> = {
    tool: compilePatterns(options.public?.tools),
    resource: compilePatterns(options.public?.resources),
    prompt: compilePatterns(options.public?.prompts),
  };
  /** A resource URI with a dot segment names what patterns cannot see (./resource-uri.ts): nothing matches it. */
  const undecidable = (target: PolicyTarget): boolean => target.kind === 'resource' && hasDotSegment(target.name);
  const isPublic = (target: PolicyTarget): boolean => !undecidable(target) && publicNames[target.kind]?.(target.name) === true;
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
    isPublic,
    hasPublic: Object.values(publicNames).some((m) => m !== null),
    isReachable: (target) => !undecidable(target) && (isPublic(target) || defaultEffect === 'allow' || applicableTo(target).length > 0),
    async decide(caller, target) {
      if (undecidable(target)) return { effect: 'deny', reason: `the resource URI ${target.name} has a dot segment` };
      // Public asks nothing of anyone: a signed-in caller cannot be held to more than one without a token.
      if (isPublic(target)) return ALLOW;
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
