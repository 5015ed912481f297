import { basename } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import { loadConfigInput } from '../config/env.ts';
import { resolveConfig, type ResolvedConfig } from '../config/resolve.ts';
import { UserInputError } from '../identity/users.ts';
import { openDatabase } from '../bootstrap/open-database.ts';
import type { AdminActor, AdminDeps } from '../admin/actions.ts';
import { GrantStatus } from '../authorization/grant-status.ts';
import { createJsonLogger, type Logger } from '../log/logger.ts';
import type { Storage, UserRecord } from '../storage/types.ts';
import { systemClock } from '../util/clock.ts';

/** What a command may touch: injected so commands print and read through one place. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** All of standard input as text. */
  readStdin(): Promise<string>;
  env: Record<string, string | undefined>;
  argv0: string;
  /**
   * Asks the person at the terminal and returns their answer; absent (or null) when nobody is there
   * to ask (standard input is not a terminal), so a command that needs confirming must be told `--yes`.
   */
  ask?(question: string): Promise<string | null>;
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
  /** Positional arguments, by name; required unless the name ends in `?` (then only last ones). */
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

/**
 * What an administration command acts with: the storage, a grant-status over it (revocations as the
 * server makes them), the clock, and a logger whose audit events go to standard error as JSON lines,
 * like the server's, so an operator's actions land in the same log collection.
 */
export async function withAdmin<T>(io: CliIo, use: (deps: AdminDeps) => Promise<T>): Promise<T> {
  return withStorage(loadConfig(io), (storage) => use({ storage, grants: new GrantStatus(storage, systemClock), clock: systemClock, logger: cliLogger(io) }));
}

/** The CLI's log: JSON lines on standard error, as the server writes them (audit events included). */
export const cliLogger = (io: CliIo): Logger => createJsonLogger({ write: (line) => io.err(`${line}\n`) });

export const CLI_ACTOR: AdminActor = { via: 'cli' };

/** A user by name, or the error naming the name. */
export async function userNamed(storage: Storage, name: string): Promise<UserRecord> {
  const username = name.trim().toLowerCase();
  const user = await storage.users.byUsername(username);
  if (!user) throw new UserInputError(`There is no user named ${printable(username)}.`);
  return user;
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
