/**
 * Name patterns of policy rules: `*` stands for any run of characters (none included), everything
 * else is literal, and a pattern matches the whole name. `*` alone matches every name.
 */
export function compilePattern(pattern: string): (name: string) => boolean {
  if (pattern === '*') return () => true;
  if (!pattern.includes('*')) return (name) => name === pattern;
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  const regex = new RegExp(`^${source}$`, 's');
  return (name) => regex.test(name);
}

/** One matcher for a list of patterns: true when any of them matches. */
export function compilePatterns(patterns: readonly string[] | undefined): ((name: string) => boolean) | null {
  if (!patterns || patterns.length === 0) return null;
  const matchers = patterns.map(compilePattern);
  return (name) => matchers.some((m) => m(name));
}
