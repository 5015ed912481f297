import type { z } from 'zod';
import { ENV } from './env.ts';
import { nearestName, settingLabel } from './setting-names.ts';

/**
 * Settings nobody reads are refused rather than ignored: a typo (`PORTCULLIS_PUBLICURL`, `publicURL`
 * in the file) would otherwise leave the default in force without a word. Each unknown name is
 * reported with the nearest valid one.
 */

/**
 * Variables that are not settings: the config file's path (read by the loader itself) and the token
 * `portcullis doctor` uses, which a shell that also starts the server may well have set.
 */
const LOADER_VARIABLES = new Set(['PORTCULLIS_CONFIG', 'PORTCULLIS_DOCTOR_TOKEN']);

/** `PORTCULLIS_*` variables that set nothing, each with the variable it is probably a typo of. */
export function unknownEnvVariables(env: Record<string, string | undefined>): string[] {
  const known = Object.keys(ENV).filter((n) => n.startsWith('PORTCULLIS_'));
  return Object.keys(env)
    .filter((name) => name.startsWith('PORTCULLIS_') && !LOADER_VARIABLES.has(name) && !(name in ENV) && env[name] !== '')
    .sort()
    .map((name) => {
      // Compared without the prefix they share, so that only the part typed wrong counts.
      const bare = (n: string) => n.slice('PORTCULLIS_'.length);
      const near = nearestName(bare(name), [...known, ...LOADER_VARIABLES].map(bare));
      return `Unknown environment variable ${name}${near ? `: did you mean PORTCULLIS_${near}?` : ''}`;
    });
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  getter?: () => z.ZodType;
}
/** A schema's definition (Zod 4's public `def`): its kind and, for objects, arrays and wrappers, what it holds. */
const defOf = (schema: z.ZodType): Def => schema.def as unknown as Def;

/** The schemas `schema` may stand for once wrappers (optional, default, pipe, union…) are taken off. */
function unwrap(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  if (def.type === 'union') return (def.options ?? []).flatMap(unwrap);
  if (def.type === 'lazy' && def.getter) return unwrap(def.getter());
  const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
  return inner ? unwrap(inner) : [schema];
}

/** Keys of `value` that no object schema among `schemas` declares, as paths, recursively. */
function unknownKeys(schemas: z.ZodType[], value: unknown, path: string, found: { path: string; near: string | undefined }[]): void {
  const concrete = schemas.flatMap(unwrap);
  if (Array.isArray(value)) {
    const elements = concrete.flatMap((s) => (defOf(s).type === 'array' && defOf(s).element ? [defOf(s).element!] : []));
    if (elements.length > 0) value.forEach((item, i) => unknownKeys(elements, item, `${path}[${i}]`, found));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const objects = concrete.filter((s) => defOf(s).type === 'object');
  // Not an object schema (a record, `unknown`), or one that keeps extra keys on purpose: nothing to check.
  const keepsExtraKeys = (s: z.ZodType): boolean => {
    const catchall = defOf(s).catchall;
    return catchall !== undefined && defOf(catchall).type !== 'never';
  };
  if (objects.length === 0 || objects.some(keepsExtraKeys)) return;
  const shapes = objects.map((s) => defOf(s).shape ?? {});
  const known = new Set(shapes.flatMap((shape) => Object.keys(shape)));
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (!known.has(key)) {
      const near = nearestName(key, known);
      found.push({ path: childPath, near: near === undefined ? undefined : path ? `${path}.${near}` : near });
      continue;
    }
    unknownKeys(shapes.flatMap((shape) => (shape[key] ? [shape[key]] : [])), child, childPath, found);
  }
}

/** Keys of a config file that are no setting, each with the nearest valid setting and its variable. */
export function unknownFileSettings(schema: z.ZodType, input: unknown, file: string): string[] {
  const found: { path: string; near: string | undefined }[] = [];
  // `$schema` lets an editor validate the file; it is no setting and harms nothing.
  const { $schema: _, ...settings } = (input ?? {}) as Record<string, unknown>;
  unknownKeys([schema], settings, '', found);
  return found.map(({ path, near }) => `Unknown setting ${path} in the config file ${file} (PORTCULLIS_CONFIG)${near ? `: did you mean ${settingLabel(near)}?` : ''}`);
}
