/**
 * Scope hierarchy: the one place that says which scope implies which (MCP RS-15, "account for scope
 * hierarchies"). A token holding a broad scope satisfies an operation that needs a narrower one;
 * a challenge always names the scopes the operation needs, never what they expand to.
 */

/** A scope on the left grants every scope on the right. Applied transitively. */
export const SCOPE_IMPLICATIONS: Readonly<Record<string, readonly string[]>> = {
  'tasks:write': ['tasks:read'],
};

/** RFC 6749 §3.3: `scope` is a space-delimited list; empty items are ignored. */
export function parseScope(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return [...new Set(value.split(' ').filter((s) => s.length > 0))];
}

/** The granted scopes plus everything they imply. */
export function effectiveScopes(granted: Iterable<string>, implications = SCOPE_IMPLICATIONS): Set<string> {
  const out = new Set<string>();
  const pending = [...granted];
  for (let scope = pending.pop(); scope !== undefined; scope = pending.pop()) {
    if (out.has(scope)) continue;
    out.add(scope);
    pending.push(...(implications[scope] ?? []));
  }
  return out;
}

/** Required scopes the grant does not cover, in the order they were required. */
export function missingScopes(granted: Iterable<string>, required: readonly string[], implications = SCOPE_IMPLICATIONS): string[] {
  const have = effectiveScopes(granted, implications);
  return required.filter((s) => !have.has(s));
}

/**
 * MCP RS-16: `offline_access` asks the authorization server for a refresh token; it is not a
 * permission of any resource, so it never appears in a challenge or in the PRM.
 */
export function withoutOfflineAccess(scopes: Iterable<string>): string[] {
  return [...scopes].filter((s) => s !== 'offline_access');
}

/**
 * The all-in-one server's resource scopes: besides `offline_access`, `openid` is left out too, since
 * its tools need no identity scope (it only asks the authorization server for an ID token).
 */
export function resourceScopes(scopes: Iterable<string>): string[] {
  return withoutOfflineAccess(scopes).filter((s) => s !== 'openid');
}
