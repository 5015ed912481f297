import { basename } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import { loadConfigInput } from '../config/env.ts';
import { resolveConfig, type ResolvedConfig } from '../config/resolve.ts';
import { UserInputError } from '../identity/users.ts';
import { openDatabase } from '../bootstrap/open-database.ts';
import type { Storage } from '../storage/types.ts';

/** What a command may touch: injected so commands print and read through one place. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** All of standard input as text. */
  readStdin(): Promise<string>;
  env: Record<string, string | undefined>;
  argv0: string;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** One CLI command (`users add`, `keys rotate`…): one file each in `commands/`. */
export interface Command {
  /** The words that select it, e.g. `users add`. */
  name: string;
  summary: string;
  /** Arguments after the name, e.g. `<name> [--admin]`. */
  usage: string;
  /** Details printed by `--help`: options, and what the command does. */
  help: string;
  options?: ParseArgsOptionsConfig;
  /** Positional arguments, by name, all required. */
  positionals?: readonly string[];
  /** Returns the exit code (default 0). Long-running commands (`start`) return once they are up. */
  run(args: ParsedArgs, io: CliIo): Promise<number | void>;
}

/** Settings from `PORTCULLIS_CONFIG` and the environment, validated: the same as the server reads. */
export function loadConfig(io: CliIo): Readonly<ResolvedConfig> {
  return resolveConfig(loadConfigInput(io.env));
}

/** Opens the server's database for one command and closes it afterwards. */
export async function withStorage<T>(config: ResolvedConfig, use: (storage: Storage) => Promise<T>): Promise<T> {
  if (config.database === ':memory:') {
    throw new UserInputError('PORTCULLIS_DATABASE is :memory:, so there is no database for this command to change. Point it at the server\'s database file.');
  }
  const storage = await openDatabase(config);
  try {
    return await use(storage);
  } finally {
    await storage.close();
  }
}

/** How to call the CLI in messages: `portcullis` when installed, the npm script from a clone. */
export function cliName(io: CliIo): string {
  return basename(io.argv0) === 'portcullis' ? 'portcullis' : 'npm run portcullis --';
}

/**
 * Client-supplied text (client names, redirect URIs) goes to a terminal: escape sequences in it
 * could rewrite what the operator sees, so control characters are replaced.
 */
export function printable(value: string): string {
  return value.replace(/[\p{Cc}\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu, '?');
}

/** Left-aligned columns with a header row. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export const date = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** First line of standard input (a password piped in), without its line ending. */
export async function readSecretLine(io: CliIo, what: string): Promise<string> {
  const line = (await io.readStdin()).split(/\r?\n/)[0] ?? '';
  if (!line) throw new UserInputError(`Expected the ${what} on standard input.`);
  return line;
}
