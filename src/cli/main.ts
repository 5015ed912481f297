import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/resolve.ts';
import { OAuthError } from '../errors/oauth-error.ts';
import { UserInputError } from '../identity/users.ts';
import { cliName, type CliIo, type Command } from './command.ts';
import { COMMANDS } from './commands/index.ts';

/**
 * `portcullis <command>`: runs one command and returns its exit code. Mistakes the user can fix
 * (bad settings, bad arguments, a name that does not exist) print only their message and give 1;
 * anything else is a bug and prints its stack.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    (first === undefined ? io.err : io.out)(overview(io));
    return first === undefined ? 1 : 0;
  }
  const command = COMMANDS.find((c) => c.name === `${first} ${second}`) ?? COMMANDS.find((c) => c.name === first);
  if (!command) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
    if (group.length === 0) {
      io.err(`Unknown command "${first}". Run ${cliName(io)} --help for the list.\n`);
      return 1;
    }
    const wantsHelp = second === '--help' || second === '-h';
    if (!wantsHelp) io.err(second === undefined ? `"${first}" needs a subcommand:\n` : `Unknown command "${first} ${second}". Try one of:\n`);
    (wantsHelp ? io.out : io.err)(list(group));
    return wantsHelp ? 0 : 1;
  }

  try {
    const { values, positionals } = parseArgs({
      args: argv.slice(command.name.split(' ').length),
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.out(commandHelp(command, io));
      return 0;
    }
    const expected = command.positionals ?? [];
    const required = expected.filter((name) => !name.endsWith('?')).length;
    if (positionals.length < required || positionals.length > expected.length) {
      throw new UserInputError(`Usage: ${cliName(io)} ${command.name} ${command.usage}`.trimEnd());
    }
    return (await command.run({ values, positionals }, io)) ?? 0;
  } catch (error) {
    const message = knownErrorMessage(error);
    if (message === null) throw error;
    io.err(`${message}\n`);
    return 1;
  }
}

/** The message of an error the user can act on, or null for a bug. */
function knownErrorMessage(error: unknown): string | null {
  if (error instanceof ConfigError || error instanceof UserInputError) return error.message;
  // Client metadata refused by the same rules as dynamic registration.
  if (error instanceof OAuthError) return error.description;
  // parseArgs: unknown option, missing value…
  if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) return error.message;
  return null;
}

function overview(io: CliIo): string {
  return `Usage: ${cliName(io)} <command> [options]\n\nCommands:\n${list(COMMANDS)}\nRun ${cliName(io)} <command> --help for its options. Settings come from the environment and PORTCULLIS_CONFIG: see docs/configuration.md.\n`;
}

function list(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return commands.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}\n`).join('');
}

function commandHelp(command: Command, io: CliIo): string {
  return `Usage: ${cliName(io)} ${command.name} ${command.usage}`.trimEnd() + `\n\n${command.summary}.\n${command.help ? `\n${command.help}\n` : ''}`;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UserInputError('--password-stdin reads a piped password, e.g. printf %s "$PASSWORD" | … --password-stdin');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One line typed at the terminal; null when standard input is not a terminal (nobody to ask). */
async function ask(question: string): Promise<string | null> {
  if (!process.stdin.isTTY) return null;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await prompt.question(question);
  } finally {
    prompt.close();
  }
}

/** Runs the command line of this process (`bin.ts` calls it once the Node version is known to do). */
export async function runCommandLine(): Promise<void> {
  const io: CliIo = {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    readStdin,
    ask,
    env: process.env,
    argv0: process.argv[1] ?? 'portcullis',
  };
  // exitCode, not exit(): output is flushed, and `start` keeps running after main returns.
  process.exitCode = await main(process.argv.slice(2), io);
}
