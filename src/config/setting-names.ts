import { ENV } from './env.ts';
import type { ConfigInput } from './schema.ts';

/**
 * Which environment variables set which setting, so that every message about a setting can name the
 * variable an operator actually typed. Derived from the variable table itself (env.ts): each
 * variable is applied to an empty input and the setting it fills is read back, so a variable added
 * there is named here without a second list to keep in step.
 */
let bySetting: Map<string, string[]> | undefined;

/** Values one of which every variable's parser accepts (a number, a boolean, a kind, a URL, a word). */
const PROBES = ['1', 'local', 'https://probe.invalid', 'a'];

function settingPaths(value: unknown, prefix: string): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => settingPaths(v, prefix ? `${prefix}.${k}` : k));
}

function envBySetting(): Map<string, string[]> {
  if (bySetting) return bySetting;
  bySetting = new Map();
  for (const [name, apply] of Object.entries(ENV)) {
    for (const probe of PROBES) {
      const input: ConfigInput = {};
      try {
        apply(input, probe, name);
      } catch {
        continue;
      }
      for (const path of settingPaths(input, '')) bySetting.set(path, [...(bySetting.get(path) ?? []), name]);
      break;
    }
  }
  // PORTCULLIS_ names first: seed-2 and generic aliases (DATABASE_URL, STYTCH_…) follow as "or …".
  for (const names of bySetting.values()) names.sort((a, b) => Number(!a.startsWith('PORTCULLIS_')) - Number(!b.startsWith('PORTCULLIS_')));
  return bySetting;
}

/** The environment variables of a setting (`registration.perMinute` → PORTCULLIS_REGISTRATION_PER_MINUTE), PORTCULLIS_ ones first. */
export function envNamesOf(path: string): string[] {
  return envBySetting().get(path) ?? [];
}

/** The variables of a setting or, for an item of a list (`trustedProxies.0`), of the nearest setting above it. */
function envNamesAbove(path: string): string[] {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const names = envNamesOf(p);
    if (names.length > 0) return names;
  }
  return [];
}

/** `publicUrl (PORTCULLIS_PUBLIC_URL)`, or `scopes (config file only: PORTCULLIS_CONFIG)` for a setting no variable sets. */
export function settingLabel(path: string): string {
  return `${path} (${variablesOf(path)})`;
}

/** The variables of a setting as a parenthesis: `PORTCULLIS_DATABASE or DATABASE_URL`, or `config file only: PORTCULLIS_CONFIG`. */
function variablesOf(path: string): string {
  const names = envNamesAbove(path);
  if (names.length > 0) return names.join(' or ');
  const children = [...envBySetting()].filter(([p]) => p.startsWith(`${path}.`)).flatMap(([, n]) => n);
  if (children.length > 0) return children.length <= 3 ? children.join(', ') : 'see docs/configuration.md';
  return 'config file only: PORTCULLIS_CONFIG';
}

/**
 * `Invalid setting <path>: <message> (<variables>)` for a problem written as `path: message`: the
 * setting's variables are added unless the message already names one of them.
 */
export function invalidSettingMessage(problem: string): string {
  const colon = problem.indexOf(': ');
  const path = colon > 0 && /^[\w.\[\]]+$/.test(problem.slice(0, colon)) ? problem.slice(0, colon) : null;
  if (path === null) return `Invalid setting ${problem}`;
  const message = problem.slice(colon + 2);
  if (envNamesAbove(path).some((n) => message.includes(n))) return `Invalid setting ${problem}`;
  const variables = `(${variablesOf(path)})`;
  return `Invalid setting ${path}: ${message.endsWith('.') ? `${message.slice(0, -1)} ${variables}.` : `${message} ${variables}`}`;
}

/** Levenshtein distance, case-insensitive: `publicURL` is a typo of `publicUrl`, not a different word. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[y.length]!;
}

/** The candidate closest to `name`, if it is close enough to be a typo of it (a third of its letters at most, and at least 2). */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 3)) ? best.candidate : undefined;
}
