import { z } from 'zod';
import type { ParsedConfig } from './schema.ts';

/**
 * The `toolPolicy` setting: who may use which tool, resource and prompt of the MCP endpoint, in the
 * built-in server and the gateway alike (decided by src/policy/decide.ts).
 */

const scopeName = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope is printable ASCII without spaces, quotes or backslashes');
const patterns = z.array(z.string().min(1).max(500)).min(1);

const ruleSchema = z
  .object({
    tools: patterns.optional(),
    resources: patterns.optional(),
    prompts: patterns.optional(),
    scopes: z.array(scopeName).min(1).optional(),
    groups: z.array(z.string().min(1)).min(1).optional(),
    organizations: z.array(z.string().min(1)).min(1).optional(),
    permission: z.object({ resource: z.string().min(1), action: z.string().min(1) }).strict().optional(),
  })
  .strict()
  .refine((r) => r.tools || r.resources || r.prompts, 'a rule names tools, resources or prompts')
  .refine((r) => r.scopes || r.groups || r.organizations || r.permission, 'a rule requires scopes, groups, organizations or a permission');

/** Targets anyone may use without signing in (the rest of the endpoint stays protected). */
const publicSchema = z
  .object({ tools: patterns.optional(), resources: patterns.optional(), prompts: patterns.optional() })
  .strict();

export const toolPolicySchema = z
  .object({
    rules: z.array(ruleSchema).default([]),
    public: publicSchema.default({}),
    default: z.enum(['allow', 'deny']).default('allow'),
    filterLists: z.boolean().default(true),
    groupsClaim: z.union([z.string().min(1), z.literal(false)]).default('groups'),
  })
  .default({ rules: [], public: {}, default: 'allow', filterLists: true, groupsClaim: 'groups' })
  .describe(
    'PORTCULLIS_TOOL_POLICY_DEFAULT (`allow`/`deny`), PORTCULLIS_TOOL_POLICY_FILTER_LISTS (`on`/`off`), PORTCULLIS_GROUPS_CLAIM; `rules` in the config file only. ' +
      'Who may use which tool, resource and prompt, in the built-in server and the gateway. Each rule names `tools`, `resources` (by URI) or `prompts` by pattern (`*` matches any run of characters: `delete_*`, `*`) and requires ' +
      'all of its `scopes`, one of its `groups` (or roles), one of its `organizations` (Stytch B2B `organization_id`), and its `permission` `{resource, action}` (Stytch RBAC, decided like Stytch\'s `authorization_check`: one of the token\'s scopes must grant it; needs the Stytch verifier with `STYTCH_SECRET`). ' +
      'A target must satisfy every rule naming it, on top of the scopes its tool declares (`upstream.toolScopes` in gateway mode). When more scope would help, a call gets 403 `insufficient_scope` naming the scopes (the client can step up); ' +
      'when none would (a group, an organization), a JSON-RPC error `-32003`. `default: deny` refuses whatever no rule names. ' +
      '`filterLists` (default on): `tools/list`, `resources/list` and `prompts/list` show only what the caller may use. ' +
      'Groups: local accounts\' groups (`portcullis users add|groups <name> --group <g>`), accounts signed in with OpenID Connect take theirs from the ID token\'s `groupsClaim` at each login, and tokens of an external authorization server carry them in the `groupsClaim` claim (default `groups`; `roles` for a roles claim; `false`: none). ' +
      '`public` (config file only; default none): `tools`, `resources` and `prompts` by pattern that anyone may use without signing in; a request without a token may then initialize, list, and use those, ' +
      'lists show every tool with its `securitySchemes` (Apps SDK: `noauth` for public ones, `oauth2` with its scopes), and anything else without a token gets the usual 401 challenge (docs/tool-policy.md, "Public tools"). ' +
      'A request whose 2026-07-28 `Mcp-Method` or `Mcp-Name` header disagrees with its body is refused (400, `-32020`) before any of this.',
  );

export type ToolPolicySettings = z.output<typeof toolPolicySchema>;

/**
 * A rule's scope that the server does not offer could never be granted by its own authorization
 * server: the tool would be unusable, so it is refused at start. (With an external authorization
 * server its scopes are its own business.)
 */
export function toolPolicyProblem(config: Pick<ParsedConfig, 'toolPolicy' | 'scopes' | 'authorizationServer' | 'identityProvider'>): string | null {
  const offered = new Set(config.scopes.map((s) => s.name));
  // Stytch RBAC is what decides a permission: only the stytch verifier, with the secret to read the policy, has it.
  const rbac = config.authorizationServer?.verifier === 'stytch' && config.authorizationServer.issuer !== undefined && config.identityProvider.stytch?.secret !== undefined;
  for (const [i, rule] of config.toolPolicy.rules.entries()) {
    if (rule.permission && !rbac) return `toolPolicy.rules.${i}.permission: Stytch RBAC permissions need the stytch verifier (STYTCH_DOMAIN) and the project secret (STYTCH_SECRET)`;
    if (config.authorizationServer) continue;
    for (const scope of rule.scopes ?? []) {
      if (!offered.has(scope)) return `toolPolicy.rules.${i}.scopes: ${scope} is not one of the declared scopes`;
    }
  }
  return null;
}
