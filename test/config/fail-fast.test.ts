import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfigInput } from '../../src/config/env.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { envNamesOf } from '../../src/config/setting-names.ts';
import { configWarnings } from '../../src/config/warnings.ts';
import { keyRingSource } from '../../src/keys/key-ring-source.ts';
import { openPostgresStorage } from '../../src/storage/postgres/open.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { runCli, tempDatabase } from '../cli/helpers.ts';
import { createTestApp } from '../helpers/app.ts';

/** Issue 12 part 6: a setting that cannot mean what the operator wanted stops the start, with one line naming its variable. */

const messageOf = (work: () => unknown): string => {
  try {
    work();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected a configuration error');
};

describe('unknown settings are refused, naming the nearest valid one', () => {
  const db = tempDatabase();
  after(() => db.cleanup());

  it('a mistyped PORTCULLIS_ variable is refused with the variable it is probably a typo of', () => {
    const message = messageOf(() => loadConfigInput({ PORTCULLIS_PUBLICURL: 'https://mcp.example.com', PORTCULLIS_REGISTRATION_PERMINUTE: '5' }));
    assert.match(message, /^Unknown environment variable PORTCULLIS_PUBLICURL: did you mean PORTCULLIS_PUBLIC_URL\?$/m);
    assert.match(message, /^Unknown environment variable PORTCULLIS_REGISTRATION_PERMINUTE: did you mean PORTCULLIS_REGISTRATION_PER_MINUTE\?$/m);
    assert.match(message, /docs\/configuration\.md/);
  });

  it('a PORTCULLIS_ variable like no setting is refused without a guess; PORTCULLIS_CONFIG, the doctor token, empty values and other prefixes pass', () => {
    assert.match(messageOf(() => loadConfigInput({ PORTCULLIS_WIDGETS: 'on' })), /^Unknown environment variable PORTCULLIS_WIDGETS\n/);
    const file = join(db.dir, 'empty.json');
    writeFileSync(file, '{}');
    assert.deepEqual(loadConfigInput({ PORTCULLIS_CONFIG: file, PORTCULLIS_DOCTOR_TOKEN: 'pca_x', PORTCULLIS_LEFT_OVER: '', STYTCH_PROJECT_ID: 'project-test-1', HOME: '/root' }), {
      identityProvider: { stytch: { projectId: 'project-test-1' } },
    });
  });

  it('a mistyped key in the config file is refused with the setting and its variable, at any depth', () => {
    const file = join(db.dir, 'typos.json');
    writeFileSync(
      file,
      JSON.stringify({ $schema: './schema.json', publicURL: 'https://mcp.example.com', registration: { perMinut: 5 }, scopes: [{ name: 'a', descripton: 'b' }], identityProvider: { oidc: { isuer: 'x' } } }),
    );
    const lines = messageOf(() => loadConfigInput({ PORTCULLIS_CONFIG: file })).split('\n');
    assert.deepEqual(lines.slice(0, 4), [
      `Unknown setting publicURL in the config file ${file} (PORTCULLIS_CONFIG): did you mean publicUrl (PORTCULLIS_PUBLIC_URL)?`,
      `Unknown setting registration.perMinut in the config file ${file} (PORTCULLIS_CONFIG): did you mean registration.perMinute (PORTCULLIS_REGISTRATION_PER_MINUTE)?`,
      `Unknown setting scopes[0].descripton in the config file ${file} (PORTCULLIS_CONFIG): did you mean scopes[0].description (config file only: PORTCULLIS_CONFIG)?`,
      `Unknown setting identityProvider.oidc.isuer in the config file ${file} (PORTCULLIS_CONFIG): did you mean identityProvider.oidc.issuer (PORTCULLIS_OIDC_ISSUER or OAUTH_ISSUER)?`,
    ]);
  });

  it('a config file that is not one JSON object is refused naming PORTCULLIS_CONFIG', () => {
    const file = join(db.dir, 'list.json');
    writeFileSync(file, '[1, 2]');
    assert.match(messageOf(() => loadConfigInput({ PORTCULLIS_CONFIG: file })), /config file .* \(PORTCULLIS_CONFIG\) must hold one JSON object/);
  });

  it('config check refuses the typo too: exit 1, the message alone, no stack', async () => {
    const r = await runCli(['config', 'check'], { PORTCULLIS_DATABASE: db.database, PORTCULLIS_PUBLICURL: 'https://mcp.example.com' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Unknown environment variable PORTCULLIS_PUBLICURL: did you mean PORTCULLIS_PUBLIC_URL\?/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});

describe('a database value that is neither a PostgreSQL URL nor a file path is refused', () => {
  it('mysql://, postgres:/ and file: are refused naming PORTCULLIS_DATABASE; paths and postgres:// URLs pass', () => {
    for (const database of ['mysql://root:secret@db.example/app', 'postgres:/bad', 'postgresql:host/db', 'file:./data/x.db', 'redis://127.0.0.1:6379']) {
      const message = messageOf(() => resolveConfig({ database }));
      assert.match(message, /^Invalid setting database: .*\(PORTCULLIS_DATABASE or DATABASE_URL\)$/, database);
      assert.ok(!message.includes('secret'), 'a password in the value is never repeated');
    }
    for (const database of ['./data/portcullis.db', '/var/lib/portcullis/p.db', 'C:\\data\\p.db', ':memory:', 'postgres://u:p@db.example:5432/app', 'postgresql://db.example/app?sslmode=require']) {
      assert.equal(resolveConfig({ database }).database, database);
    }
    assert.match(messageOf(() => resolveConfig(loadConfigInput({ DATABASE_URL: 'mysql://db.example/app' }))), /\(PORTCULLIS_DATABASE or DATABASE_URL\)/);
  });
});

describe('every configuration message names the environment variable', () => {
  const cases: [string, ConfigInput][] = [
    ['port', { port: 70_000 }],
    ['accessTokenTtl', { accessTokenTtl: 5 }],
    ['logLevel', { logLevel: 'loud' as 'info' }],
    ['publicUrl', { publicUrl: 'not a url' }],
    ['trustedProxies', { trustedProxies: ['the proxy'] }],
    ['registration.perMinute', { registration: { perMinute: 0 } }],
    ['tokenPerMinute', { tokenPerMinute: 0 }],
    ['signingAlgorithm', { signingAlgorithm: 'HS256' as 'ES256' }],
    ['mcpPath', { mcpPath: 'mcp/' }],
    ['defaultScopes', { defaultScopes: ['admin'] }],
    ['refreshTokenAbsoluteTtl', { refreshTokenIdleTtl: 86_400, refreshTokenAbsoluteTtl: 3600 }],
  ];
  for (const [setting, input] of cases) {
    it(`${setting}: ${JSON.stringify(input)}`, () => {
      const names = envNamesOf(setting);
      assert.ok(names.length > 0, `${setting} has a variable`);
      const message = messageOf(() => resolveConfig(input));
      assert.match(message, new RegExp(`^Invalid setting ${setting.replace('.', '\\.')}`));
      assert.ok(names.some((n) => message.includes(n)), message);
    });
  }

  it('a bad value from the environment names the variable it came from', () => {
    assert.match(messageOf(() => resolveConfig(loadConfigInput({ PORTCULLIS_ACCESS_TOKEN_TTL: '5' }))), /PORTCULLIS_ACCESS_TOKEN_TTL/);
    assert.match(messageOf(() => loadConfigInput({ PORTCULLIS_TOKEN_PER_MINUTE: 'lots' })), /^Invalid setting PORTCULLIS_TOKEN_PER_MINUTE: expected a whole number/);
  });
});

describe('HOST=0.0.0.0 without a public URL warns', () => {
  const db = tempDatabase();
  after(() => db.cleanup());

  it('the warning names HOST and PORTCULLIS_PUBLIC_URL; none with a public URL or on loopback', () => {
    const [warning, ...rest] = configWarnings(resolveConfig({ host: '0.0.0.0' }));
    assert.equal(rest.length, 0);
    assert.match(warning ?? '', /^HOST=0\.0\.0\.0 .*PORTCULLIS_PUBLIC_URL is not set: clients there would be sent to http:\/\/localhost:3000/);
    assert.deepEqual(configWarnings(resolveConfig({ host: '0.0.0.0', publicUrl: 'https://mcp.example.com' })), []);
    assert.deepEqual(configWarnings(resolveConfig({ host: '127.0.0.1' })), []);
    assert.deepEqual(configWarnings(resolveConfig({ host: '::1' })), []);
  });

  it('config check prints it on stderr and still succeeds', async () => {
    const r = await runCli(['config', 'check'], { PORTCULLIS_DATABASE: db.database, HOST: '0.0.0.0' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Warning: HOST=0\.0\.0\.0 .*PORTCULLIS_PUBLIC_URL/);
    assert.match(r.stdout, /^Database: .* does not exist yet; start creates it\.$/m);
  });
});

describe('listen and database errors at start: one line, no stack', () => {
  const db = tempDatabase();
  after(() => db.cleanup());
  // A DNS label longer than 63 characters: the resolver refuses it on this machine, no query is sent.
  const unresolvable = `${'a'.repeat(64)}.invalid`;
  const oneLine = (r: { code: number | null; stderr: string }): string => {
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    return r.stderr.trim();
  };

  it('a HOST that does not resolve (ENOTFOUND) names HOST', async () => {
    const line = oneLine(await runCli(['start'], { PORTCULLIS_DATABASE: db.database, HOST: unresolvable, PORT: '0' }));
    assert.match(line, /^Cannot listen on a+\.invalid: the name does not resolve \(ENOTFOUND\)\. Check HOST\.$/);
  });

  it('a HOST that is no address of this machine (EADDRNOTAVAIL) names HOST', async () => {
    const line = oneLine(await runCli(['start'], { PORTCULLIS_DATABASE: db.database, HOST: '192.0.2.1', PORT: '0' }));
    assert.equal(line, 'Cannot listen on 192.0.2.1: no such address on this machine. Check HOST.');
  });

  it('a PostgreSQL host that does not resolve, or where nothing listens, names PORTCULLIS_DATABASE and hides the password', async () => {
    const key = randomBytes(32).toString('base64url');
    for (const [url, reason] of [
      [`postgres://portcullis:hunter2@${unresolvable}:5432/app`, /does not resolve/],
      ['postgres://portcullis:hunter2@localhost:1/app', /ECONNREFUSED.*is PostgreSQL running\?/],
    ] as const) {
      const line = oneLine(await runCli(['start'], { PORTCULLIS_DATABASE: url, PORTCULLIS_KEY_ENCRYPTION_KEY: key, PORT: '0' }));
      assert.match(line, /^Cannot open the database postgres:\/\/portcullis:\*+@.* \(PORTCULLIS_DATABASE\): /);
      assert.match(line, reason);
      assert.ok(!line.includes('hunter2'));
    }
  });
});

describe('a SQLite file this user cannot write', () => {
  // Root writes to read-only files regardless: this case runs as any other user (CI), and was checked by hand as `nobody`.
  it('start fails in one line naming PORTCULLIS_DATABASE; config check exits 1', { skip: process.getuid?.() === 0 ? 'running as root, which file modes do not stop' : false }, async () => {
    const db = tempDatabase();
    try {
      await (await openSqliteStorage(db.database)).close();
      chmodSync(db.database, 0o444);
      const env = { PORTCULLIS_DATABASE: db.database, PORT: '0' };
      const start = await runCli(['start'], env);
      assert.equal(start.code, 1);
      assert.equal(start.stderr, `The database ${db.database} (PORTCULLIS_DATABASE) takes no writes: attempt to write a readonly database. Make the file and its folder writable by this server's user.\n`);
      assert.equal((await runCli(['config', 'check'], env)).code, 1);
    } finally {
      db.cleanup();
    }
  });
});

describe('a database that takes no writes: start fails, config check and /readyz say so', { skip: process.env.DATABASE_URL ? false : 'DATABASE_URL is not set' }, () => {
  const url = process.env.DATABASE_URL!;
  const suffix = randomBytes(5).toString('hex');
  const database = `portcullis_ro_${suffix}`;
  const role = `portcullis_ro_${suffix}`;
  const key = randomBytes(32).toString('base64url');
  const keyRing = keyRingSource({ database: url, keyEncryptionKey: key });
  const urlOf = (user?: string) => {
    const u = new URL(url);
    u.pathname = `/${database}`;
    if (user) u.username = user;
    return u.href;
  };
  const sql = async (query: string, on = url): Promise<void> => {
    const client = new pg.Client({ connectionString: on });
    await client.connect();
    try {
      await client.query(query);
    } finally {
      await client.end();
    }
  };

  before(async () => {
    await sql(`create database ${database}`);
    // Migrated by its owner; then a server user allowed to read and write the tables, nothing more.
    await (await openPostgresStorage(urlOf(), { keyRing })).close();
    await sql(`create role ${role} login`);
    await sql(`grant usage on schema public to ${role}; grant select, insert, update, delete on all tables in schema public to ${role}`, urlOf());
  });
  after(async () => {
    await sql(`drop database if exists ${database} with (force)`);
    await sql(`drop role if exists ${role}`);
  });

  it('/readyz answers 503 read_only once writes are refused, and 200 again once they are not; the reason is logged once', async () => {
    const t = await createTestApp({}, { storage: await openPostgresStorage(urlOf(role), { keyRing }) });
    try {
      assert.equal((await t.request('/readyz')).status, 200);
      await sql(`revoke insert, update, delete on all tables in schema public from ${role}`, urlOf());
      for (let i = 0; i < 2; i++) {
        const refused = await t.request('/readyz');
        assert.equal(refused.status, 503);
        assert.deepEqual(await refused.json(), {
          status: 'read_only',
          detail: 'The database takes no writes (PORTCULLIS_DATABASE): sign-ins and token requests would fail.',
        });
      }
      const warnings = t.logger.records().filter((r) => r.level === 'warn' && String(r.msg).startsWith('not ready'));
      assert.equal(warnings.length, 1, 'once per change, not per probe');
      assert.match(String(warnings[0]!.reason), /permission denied/);
      await sql(`grant insert, update, delete on all tables in schema public to ${role}`, urlOf());
      assert.equal((await t.request('/readyz')).status, 200);
      assert.ok(t.logger.records().some((r) => String(r.msg).startsWith('ready again')));
    } finally {
      await t.close();
    }
  });

  it('start refuses a read-only database (a standby, default_transaction_read_only) in one line naming PORTCULLIS_DATABASE; config check exits 1', async () => {
    await sql(`alter database ${database} set default_transaction_read_only = on`);
    try {
      const env = { PORTCULLIS_DATABASE: urlOf(), PORTCULLIS_KEY_ENCRYPTION_KEY: key, PORT: '0' };
      const start = await runCli(['start'], env);
      assert.equal(start.code, 1);
      assert.match(start.stderr, /^The database postgres:\/\/.* \(PORTCULLIS_DATABASE\) takes no writes: cannot execute INSERT in a read-only transaction\./);
      assert.equal(start.stderr.trim().split('\n').length, 1);
      const check = await runCli(['config', 'check'], env);
      assert.equal(check.code, 1);
      assert.match(check.stderr, /\(PORTCULLIS_DATABASE\) takes no writes/);
      assert.doesNotMatch(check.stdout, /^Database: /m);
    } finally {
      await sql(`alter database ${database} reset default_transaction_read_only`);
    }
    const check = await runCli(['config', 'check'], { PORTCULLIS_DATABASE: urlOf(), PORTCULLIS_KEY_ENCRYPTION_KEY: key });
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /^Database: postgres:\/\/.* answers and takes writes\.$/m);
  });
});
