/**
 * `upstream.command` → program and arguments, split the way a POSIX shell splits simple words —
 * whitespace between words, '…' literal, "…" with \" \\ \$ \` escapes, \x outside quotes — but never
 * handed to a shell: no variables, globs, pipes or redirections. Shell syntax that would silently
 * mean something else without a shell is refused with a message saying so.
 */

export class CommandLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandLineError';
  }
}

export interface CommandLine {
  program: string;
  args: string[];
}

/** Characters a shell would interpret when unquoted. */
const SHELL_SYNTAX = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`']);
const ESCAPABLE_IN_DOUBLE_QUOTES = new Set(['"', '\\', '$', '`']);

export function parseCommandLine(line: string): CommandLine {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;

  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && ESCAPABLE_IN_DOUBLE_QUOTES.has(line[i + 1] ?? '')) word += line[++i];
      else word += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'" || c === '"') quote = c;
    else if (c === '\\') {
      if (i + 1 >= line.length) throw new CommandLineError('the command ends with a lone backslash');
      word += line[++i];
    } else if (SHELL_SYNTAX.has(c)) {
      throw new CommandLineError(`the command is not run by a shell, so an unquoted ${c} would be passed literally; quote it if that is what you mean, or wrap the pipeline in a script`);
    } else if (c === '~' && word === '') {
      throw new CommandLineError('the command is not run by a shell, so ~ is not expanded; write the full path');
    } else word += c;
  }
  if (quote) throw new CommandLineError(`the command has an unclosed ${quote}`);
  if (inWord) words.push(word);

  const [program, ...args] = words;
  if (program === undefined || program === '') throw new CommandLineError('the command is empty');
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(program)) {
    throw new CommandLineError(`the command is not run by a shell, so ${program.split('=')[0]}=… is not a variable assignment; name variables to pass in upstream.passEnv`);
  }
  return { program, args };
}
