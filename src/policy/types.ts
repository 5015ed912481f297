/**
 * Tool-level authorization: what a policy rule says, who is asking and what they ask for, and the
 * answer. One decision point (./decide.ts) serves the built-in MCP server, the gateway and the
 * library adapters alike; nothing here knows which of them is asking.
 */

/** What an MCP request acts on: `tools/call` a tool, `resources/read` a resource (by URI), `prompts/get` a prompt. */
export type PolicyTargetKind = 'tool' | 'resource' | 'prompt';

export interface PolicyTarget {
  kind: PolicyTargetKind;
  /** The tool or prompt name, or the resource URI. */
  name: string;
}

/** Who is asking, as the verified token (and, for local accounts, the account) says. */
export interface PolicyCaller {
  subject: string;
  scopes: readonly string[];
  /** Groups or roles of the person: local accounts' groups, an OIDC groups claim, a roles claim. */
  groups?: readonly string[];
  /** The organization of an organization-scoped token (Stytch B2B), when there is one. */
  organizationId?: string;
}

/** A Stytch RBAC permission (`{resource_id, action}`), checked as Stytch's `authorization_check` does. */
export interface PolicyPermission {
  resource: string;
  action: string;
}

/**
 * One rule. It applies to the targets its patterns name (`*` matches any run of characters, so
 * `tasks_*` or `*`); a target may be named by several rules, and must satisfy every one of them.
 * Within a rule: every scope of `scopes`, at least one of `groups`, one of `organizations`, and
 * the `permission`.
 */
export interface PolicyRule {
  tools?: readonly string[];
  resources?: readonly string[];
  prompts?: readonly string[];
  /** Scopes the token must hold, all of them (after the scope hierarchy). */
  scopes?: readonly string[];
  /** The caller must be in at least one of these groups (or have one of these roles). */
  groups?: readonly string[];
  /** The caller's token must be scoped to one of these organizations (Stytch B2B `organization_id`). */
  organizations?: readonly string[];
  /** A Stytch RBAC permission one of the token's scopes must grant; needs a permission source. */
  permission?: PolicyPermission;
}

/** Targets anyone may use without signing in, by pattern as in rules. */
export interface PublicTargets {
  tools?: readonly string[];
  resources?: readonly string[];
  prompts?: readonly string[];
}

/**
 * The answer. `step-up`: the caller is refused, and a token with `scopes` (every scope the
 * operation needs, RS-13b) would be let through: a `403 insufficient_scope` challenge. `deny`: no
 * scope would help (a group, an organization, a permission no scope grants, the default): a plain
 * refusal, with the reason for the logs and a message fit for the caller.
 */
export type PolicyDecision =
  | { effect: 'allow' }
  | { effect: 'step-up'; scopes: readonly string[] }
  | { effect: 'deny'; reason: string };
