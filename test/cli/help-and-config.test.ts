import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import { runCli, spawnCli, tempDatabase } from './helpers.ts';

describe('portcullis --help', () => {
  it('lists every command', async () => {
    const r = await runCli(['--help'], {});
    assert.equal(r.code, 0, r.stderr);
    for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c.name}\\s`, 'm'), c.name);
  });

  it('every command answers --help with its usage, exit 0, touching nothing', async () => {
    for (const { name } of COMMANDS) {
      const r = await runCli([...name.split(' '), '--help'], { PORTCULLIS_DATABASE: '/nonexistent/dir/db' });
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: .*${name}`), name);
    }
  });

  it('an unknown command or option exits 1 with a message, no stack trace', async () => {
    for (const args of [['frobnicate'], ['users', 'frobnicate'], ['users', 'list', '--frob'], []]) {
      const r = await runCli(args, {});
      assert.equal(r.code, 1, args.join(' '));
      assert.ok(r.stderr.length > 0);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });
});

describe('the portcullis binary (a real process; everything else runs main() in process)', () => {
  it('SHAPE-6 the #! entry runs main and exits with its code: 0 for --help, 1 with usage for nothing', async () => {
    const help = await spawnCli(['--help'], {}, { viaShebang: true });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: npm run portcullis -- <command>/);
    const nothing = await spawnCli([], {}, { viaShebang: true });
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /^Usage: /);
    assert.equal(nothing.stdout, '');
  });

  it('SHAPE-6 reads standard input from the pipe (users add --password-stdin)', async () => {
    const db = tempDatabase();
    try {
      const r = await spawnCli(['users', 'add', 'piped', '--password-stdin'], { PORTCULLIS_DATABASE: db.database }, { input: 'correct horse battery staple\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /piped/);
    } finally {
      db.cleanup();
    }
  });
});

describe('portcullis config check', () => {
  const db = tempDatabase();
  after(() => db.cleanup());

  it('prints the resolved configuration, issuer and resource included', async () => {
    const r = await runCli(['config', 'check'], { PORTCULLIS_PUBLIC_URL: 'https://mcp.example.com/', PORTCULLIS_DATABASE: db.database });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^The configuration is valid\./);
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as Record<string, unknown>;
    assert.equal(json.issuer, 'https://mcp.example.com');
    assert.equal(json.resource, 'https://mcp.example.com/mcp');
    assert.equal(json.database, db.database);
  });

  it('HARD-4 shows key-encryption keys only as set', async () => {
    const [current, previous] = ['a'.repeat(43), 'b'.repeat(43)];
    const r = await runCli(['config', 'check'], { PORTCULLIS_DATABASE: db.database, PORTCULLIS_KEY_ENCRYPTION_KEY: current, PORTCULLIS_PREVIOUS_KEY_ENCRYPTION_KEYS: previous });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(current) && !r.stdout.includes(previous), r.stdout);
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as Record<string, unknown>;
    assert.deepEqual([json.keyEncryptionKey, json.previousKeyEncryptionKeys], ['(set)', '(set)']);
  });

  it('reads PORTCULLIS_CONFIG, with the environment winning', async () => {
    const file = join(db.dir, 'config.json');
    writeFileSync(file, JSON.stringify({ serverName: 'From file', accessTokenTtl: 120 }));
    const r = await runCli(['config', 'check'], { PORTCULLIS_CONFIG: file, PORTCULLIS_ACCESS_TOKEN_TTL: '300' });
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as Record<string, unknown>;
    assert.equal(json.serverName, 'From file');
    assert.equal(json.accessTokenTtl, 300);
  });

  it('a bad setting exits 1 with a message naming it', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PORT: 'eighty' }, /^Invalid setting PORT: expected a whole number/],
      [{ PORTCULLIS_PUBLIC_URL: 'http://mcp.example.com' }, /^Invalid setting publicUrl: .*plain http/],
      [{ PORTCULLIS_DEFAULT_SCOPES: 'tasks:read nope' }, /^Invalid setting defaultScopes: nope/],
      [{ PORTCULLIS_CONFIG: join(db.dir, 'missing.json') }, /^Cannot read config file/],
    ];
    for (const [env, message] of cases) {
      const r = await runCli(['config', 'check'], env);
      assert.equal(r.code, 1, JSON.stringify(env));
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });
});
