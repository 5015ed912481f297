import type { ResolvedConfig } from '../../config/resolve.ts';

/** What the built-in scopes allow, in words a person understands. */
const BUILT_IN: Record<string, string> = {
  offline_access: 'Stay connected when you are not using it (refresh tokens)',
  openid: 'Know your username',
  profile: 'Know your username',
  email: 'Know your e-mail address (this server keeps none, so none is shared)',
};

/** Each scope with the description shown on the consent page (configured ones from `scopes`). */
export function describeScopes(config: ResolvedConfig, scopes: readonly string[]): Array<{ name: string; description: string }> {
  const configured = new Map(config.scopes.map((s) => [s.name, s.description]));
  return scopes.map((name) => ({ name, description: configured.get(name) ?? BUILT_IN[name] ?? name }));
}
