import type { ToolPolicy } from './decide.ts';
import type { PolicyTarget } from './types.ts';

/**
 * Per-tool security schemes as ChatGPT's Apps SDK reads them from `tools/list`: `noauth` for a tool
 * anyone may call, `oauth2` with the scopes a call needs for one that takes a token (a public tool
 * lists both: it works either way). Written to the descriptor's `securitySchemes` and mirrored in
 * `_meta.securitySchemes`, where clients that keep to the MCP schema's fields look.
 */
export type SecurityScheme = { type: 'noauth' } | { type: 'oauth2'; scopes: readonly string[] };

export function securitySchemesFor(policy: ToolPolicy, target: PolicyTarget): SecurityScheme[] {
  if (policy.isPublic(target)) return [{ type: 'noauth' }, { type: 'oauth2', scopes: [] }];
  return [{ type: 'oauth2', scopes: policy.scopesFor(target) }];
}

/** Writes the tool's schemes into its listed descriptor. */
export function annotateTool(item: Record<string, unknown>, schemes: readonly SecurityScheme[]): void {
  item['securitySchemes'] = schemes;
  const meta = item['_meta'];
  item['_meta'] = { ...(typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? meta : {}), securitySchemes: schemes };
}
