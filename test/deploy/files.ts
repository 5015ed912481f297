/** Readers for the deployment files, so the tests check what the files say rather than copies of it. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const readRepoFile = (path: string): string => readFileSync(new URL(path, `file://${ROOT}`), 'utf8');

export interface DockerInstruction {
  keyword: string;
  args: string;
}

/** The instructions of a Dockerfile: comments dropped, `\` continuations joined. */
export function dockerInstructions(text: string): DockerInstruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** `KEY=value KEY2=value2` of an ENV instruction (no quoting used in ours). */
export function envPairs(args: string): [string, string][] {
  return args.split(/\s+/).filter(Boolean).map((pair) => {
    const eq = pair.indexOf('=');
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  });
}

/** A systemd unit's `Key=value` lines by section; repeated keys keep every value. */
export function unitFile(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

/**
 * Compose's variable interpolation (`${NAME}`, `${NAME:?message}`, `${NAME:-default}`) with the given
 * values; a `:?` variable without a value fails as compose would.
 */
export function interpolate(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?::([?-])([^}]*))?\}/g, (_, name: string, kind: string | undefined, rest: string) => {
    const value = values[name];
    if (value !== undefined && value !== '') return value;
    if (kind === '-') return rest;
    throw new Error(`compose: ${name} is required${kind === '?' ? `: ${rest}` : ''}`);
  });
}
