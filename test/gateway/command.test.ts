import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandLineError, parseCommandLine } from '../../src/gateway/stdio/command.ts';

describe('upstream.command is split like a shell splits simple words, and never run by one', () => {
  it('splits on whitespace', () => {
    assert.deepEqual(parseCommandLine('  npx -y   @modelcontextprotocol/server-everything '), { program: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'] });
  });

  it("single quotes are literal; double quotes keep spaces and honour \\\" \\\\ \\$ \\`; a backslash outside quotes escapes", () => {
    assert.deepEqual(parseCommandLine(`node '/opt/my server/index.js' "--name=a \\"b\\" \\\\ \\$HOME" c\\ d ''`), {
      program: 'node',
      args: ['/opt/my server/index.js', '--name=a "b" \\ $HOME', 'c d', ''],
    });
    assert.deepEqual(parseCommandLine(`echo "a\\nb" 'it''s'`), { program: 'echo', args: ['a\\nb', 'its'] });
  });

  it('refuses shell syntax that would silently mean something else without a shell', () => {
    for (const line of ['server | tee log', 'server > out', 'server && other', 'server; other', 'server $TOKEN', 'server `id`', 'server $(id)', '~/bin/server', 'API_KEY=x server']) {
      assert.throws(() => parseCommandLine(line), CommandLineError, line);
    }
    // Quoted, the same characters are just characters.
    assert.deepEqual(parseCommandLine(`server '|' "$HOME" '~'`).args, ['|', '$HOME', '~']);
  });

  it('refuses an empty command, an unclosed quote and a trailing backslash', () => {
    for (const line of ['', '   ', '"unclosed', "it's", 'server \\']) assert.throws(() => parseCommandLine(line), CommandLineError, JSON.stringify(line));
  });
});
