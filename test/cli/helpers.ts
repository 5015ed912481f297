import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '../../src/cli/command.ts';
import { main } from '../../src/cli/main.ts';

export const CLI = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const NODE_ARGS = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', CLI];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A temporary directory holding a database; removed by `cleanup()`. */
export function tempDatabase(): { dir: string; database: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
  return { dir, database: join(dir, 'portcullis.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Only what the CLI needs: no inherited PORTCULLIS_* settings from the developer's shell. */
export function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  return env;
}

/**
 * Runs `portcullis <args>` in this process through `main(argv, io)`: the given environment (and
 * nothing inherited), `input` as standard input, output captured; with `answers`, standard input is a
 * terminal where a person types them, without it nobody is there to answer a question. An exception that escapes `main`
 * is what would crash the real process: exit code 1 with its stack on stderr. Spawning a process per
 * call cost about a second each (loading and stripping every module again).
 */
export async function runCli(args: string[], env: Record<string, string>, input = '', timeoutMs = 30_000, answers?: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    out: (text) => void (stdout += text),
    err: (text) => void (stderr += text),
    readStdin: async () => input,
    env: cliEnv(env),
    argv0: CLI,
    // `answers`: a person at a terminal types these, in turn (question and echoed answer on stderr, as readline's are).
    ...(answers
      ? {
          ask: async (question: string) => {
            const answer = answers.shift() ?? '';
            stderr += `${question}${answer}\n`;
            return answer;
          },
        }
      : {}),
  };
  const run = main(args, io).then(
    (code) => ({ code, stdout, stderr }),
    (error: unknown) => ({ code: 1, stdout, stderr: `${stderr}${error instanceof Error ? error.stack : String(error)}\n` }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`portcullis ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`)), timeoutMs);
  });
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `portcullis <args>` as a real child process, for what only the process boundary shows: the
 * `#!` entry, exit codes set through `process.exitCode`, start-up failures of `start`.
 * `viaShebang` executes the file itself, as an installed `portcullis` binary is run.
 */
export function spawnCli(args: string[], env: Record<string, string>, options: { input?: string; timeoutMs?: number; viaShebang?: boolean } = {}): Promise<CliResult> {
  const { input = '', timeoutMs = 30_000 } = options;
  return new Promise((resolve, reject) => {
    const child = options.viaShebang ? spawn(CLI, args, { env: cliEnv(env) }) : spawn(process.execPath, [...NODE_ARGS, ...args], { env: cliEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`portcullis ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

export interface RunningServer {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code; rejects after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<number | null>;
}

/** Spawns `portcullis start [args]` and waits (bounded) until stdout contains `ready`. */
export async function startServer(env: Record<string, string>, ready: RegExp, timeoutMs = 30_000, args: readonly string[] = []): Promise<RunningServer & { match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [...NODE_ARGS, 'start', ...args], { env: cliEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not print ${ready} in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = stdout.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it was ready\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
  return {
    child,
    match,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: (ms = 15_000) =>
      Promise.race([
        exit,
        new Promise<never>((_, reject) =>
          setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`server did not exit within ${ms} ms`));
          }, ms).unref(),
        ),
      ]),
  };
}
