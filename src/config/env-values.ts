import { ConfigError } from './config-error.ts';
import type { ConfigInput } from './schema.ts';

/** Applies one environment variable to the settings; `name` is the variable, for error messages. */
export type ApplyEnv = (input: ConfigInput, value: string, name: string) => void;

/** `true`/`on`/`yes`/`1` or `false`/`off`/`no`/`0`; anything else is an error naming the variable. */
export function envBool(name: string, value: string): boolean {
  if (/^(1|true|on|yes)$/i.test(value)) return true;
  if (/^(0|false|off|no)$/i.test(value)) return false;
  throw new ConfigError(`Invalid setting ${name}: expected true or false, got "${value}"`);
}

export function envInt(name: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`Invalid setting ${name}: expected a whole number, got "${value}"`);
  return Number(value);
}

/** Comma-separated values, trimmed, empties dropped. */
export const envCommaList = (value: string): string[] => value.split(',').map((s) => s.trim()).filter(Boolean);

/** Whitespace- (or comma-) separated words, e.g. scopes. */
export const envWords = (value: string): string[] => value.split(/[\s,]+/).filter(Boolean);
