import assert from 'node:assert/strict';
import { createHmac, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { Kysely, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import { openDatabase } from '../../src/bootstrap/open-database.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { createUser } from '../../src/identity/users.ts';
import { KeyEncryptionError, KeyRing, newKeyEncryptionKeyText, parseKeyEncryptionKey } from '../../src/keys/key-encryption.ts';
import { defaultKeyFile } from '../../src/keys/key-ring-source.ts';
import { createSigningKey } from '../../src/keys/keystore.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis } from '../../src/portcullis.ts';
import { migrationProvider } from '../../src/storage/migrations/index.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { systemRandom } from '../../src/util/crypto.ts';
import { runCli } from '../cli/helpers.ts';
import { authorizationRequestUrl, authorizeWithForms, cookieJar, createPkcePair, inProcessFetch } from '../helpers/oauth-flow.ts';

const ORIGIN = 'http://localhost:3000';
const REDIRECT = 'http://127.0.0.1:4567/callback';
const PASSWORD = 'correct horse battery staple';
/** Members of a private JWK (RFC 7518 §6.2.2, §6.3.2). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

const dir = mkdtempSync(join(tmpdir(), 'portcullis-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every text cell of every table, read with plain SQLite: what a stolen database file shows. */
function everyStoredValue(path: string): { table: string; column: string; value: string }[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
    return tables.flatMap(({ name }) =>
      (db.prepare(`select * from "${name}"`).all() as Record<string, unknown>[]).flatMap((row) =>
        Object.entries(row)
          .filter((e): e is [string, string] => typeof e[1] === 'string')
          .map(([column, value]) => ({ table: name, column, value })),
      ),
    );
  } finally {
    db.close();
  }
}

/** True if `text`, read any way an attacker might, is a private key. */
function importsAsPrivateKey(text: string): boolean {
  const attempts: (() => unknown)[] = [
    () => createPrivateKey({ key: JSON.parse(text) as never, format: 'jwk' }),
    () => createPrivateKey(text),
    () => createPrivateKey({ key: Buffer.from(text, 'base64url'), format: 'der', type: 'pkcs8' }),
  ];
  return attempts.some((attempt) => {
    try {
      attempt();
      return true;
    } catch {
      return false;
    }
  });
}

const hmac = (key: string, value: string): string => createHmac('sha256', key).update(value).digest('base64url');

describe('HARD-4 secrets at rest: a copy of the database alone cannot mint or derive a credential', () => {
  const database = join(dir, 'full-run.db');
  let spentRefreshToken = '';
  let liveRefreshToken = '';
  let sessionId = '';
  let logoutCsrfToken = '';
  /** The real server keys, read through the storage with the key-encryption key (positive controls). */
  let successorKey = '';
  let loginCsrfKey = '';
  let storedValues: { table: string; column: string; value: string }[] = [];

  before(async () => {
    const clock = new ManualClock(Date.now());
    const server = await createPortcullis({ config: resolveConfig({ publicUrl: ORIGIN, database }), clock, logger: createMemoryLogger() });
    try {
      const fetch = inProcessFetch(server.app);
      await createUser(server.ctx.storage, { username: 'alice', password: PASSWORD }, { now: clock.now(), random: systemRandom });
      const registered = await fetch(`${ORIGIN}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_name: 'Secrets client', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' }),
      });
      const { client_id } = (await registered.json()) as { client_id: string };
      const pkce = createPkcePair();
      const jar = cookieJar();
      const callback = await authorizeWithForms({
        fetch,
        jar,
        username: 'alice',
        password: PASSWORD,
        authorizationUrl: authorizationRequestUrl(ORIGIN, {
          response_type: 'code',
          client_id,
          redirect_uri: REDIRECT,
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
          scope: 'tasks:read',
          state: 's',
          resource: `${ORIGIN}/mcp`,
        }),
      });
      const token = async (fields: Record<string, string>) =>
        (await (await fetch(`${ORIGIN}/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id, ...fields }) })).json()) as {
          refresh_token: string;
        };
      const first = await token({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: pkce.verifier, redirect_uri: REDIRECT });
      const second = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
      spentRefreshToken = first.refresh_token;
      liveRefreshToken = second.refresh_token;
      assert.match(liveRefreshToken, /^pcr_/);

      // The signed-in login page carries a logout form whose CSRF token comes from the session's form key.
      sessionId = jar.get(ORIGIN, 'portcullis_session') ?? '';
      const page = await (await fetch(`${ORIGIN}/logout`, { headers: { Cookie: jar.header(ORIGIN) ?? '' } })).text();
      logoutCsrfToken = /name="csrf_token"[^>]*value="([^"]+)"/.exec(page)?.[1] ?? '';
      assert.ok(sessionId && logoutCsrfToken, 'signed in, with a logout form');

      await server.ctx.keys.rotate(60_000);
      successorKey = (await server.ctx.storage.settings.get('refresh-successor-key')) ?? '';
      loginCsrfKey = (await server.ctx.storage.settings.get('login_csrf_key')) ?? '';
      assert.ok(successorKey && loginCsrfKey);
    } finally {
      await server.close();
    }
    storedValues = everyStoredValue(database);
  });

  it('stores no private JWK member in clear in any column of any table', () => {
    assert.ok(storedValues.some((v) => v.table === 'signing_keys'), 'the run stored signing keys');
    for (const { table, column, value } of storedValues) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        continue;
      }
      if (parsed && typeof parsed === 'object') {
        const found = PRIVATE_JWK_MEMBERS.filter((m) => m in parsed);
        assert.deepEqual(found, [], `${table}.${column} holds private key members`);
      }
    }
  });

  it('no stored value imports as a private key', () => {
    const keys = storedValues.filter((v) => importsAsPrivateKey(v.value));
    assert.deepEqual(keys.map((v) => `${v.table}.${v.column}`), []);
    // The check can fail: a private JWK as earlier versions stored it does import.
    assert.ok(importsAsPrivateKey(JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }))));
  });

  it('no stored value derives the live refresh token from the spent one (the successor key is not stored in clear)', () => {
    // A successor is `pcr_<grant id>.<family tag>.<HMAC(successor key, spent token)>`.
    const secretOf = (token: string) => token.split('.').at(-1);
    assert.equal(hmac(successorKey, spentRefreshToken), secretOf(liveRefreshToken), 'control: the real key derives it');
    const derives = storedValues.filter((v) => hmac(v.value, spentRefreshToken) === secretOf(liveRefreshToken));
    assert.deepEqual(derives, []);
  });

  it('the settings hold neither server key in clear', () => {
    const settings = storedValues.filter((v) => v.table === 'settings' && v.column === 'value').map((v) => v.value);
    assert.equal(settings.length, 2);
    for (const key of [successorKey, loginCsrfKey]) assert.ok(!storedValues.some((v) => v.value.includes(key)), 'a server key is readable in storage');
  });

  it('the stored login-session value does not forge the signed-in user\'s forms', () => {
    const stored = storedValues.filter((v) => v.table === 'login_sessions' && v.column === 'csrf_secret').map((v) => v.value);
    assert.equal(stored.length, 1);
    assert.notEqual(hmac(stored[0]!, 'logout:'), logoutCsrfToken);
    assert.equal(hmac(hmac(sessionId, `form key ${stored[0]!}`), 'logout:'), logoutCsrfToken, 'control: with the cookie\'s session id it does');
  });

  it('the default key file is created next to the database, readable only by its owner', { skip: process.platform === 'win32' }, () => {
    assert.equal(statSync(defaultKeyFile(database)).mode & 0o777, 0o600);
  });
});

describe('HARD-4 key-encryption key: missing, wrong and rotated', () => {
  it('PostgreSQL without a key-encryption key is refused at start, naming PORTCULLIS_KEY_ENCRYPTION_KEY', async () => {
    await assert.rejects(openDatabase(resolveConfig({ database: 'postgres://nobody@127.0.0.1:1/none' })), (e: Error) => e instanceof KeyEncryptionError && /PORTCULLIS_KEY_ENCRYPTION_KEY/.test(e.message));
  });

  it('a malformed key is a settings error that does not echo the value', () => {
    assert.throws(() => resolveConfig({ keyEncryptionKey: 'too-short-secret-value' }), (e: Error) => /keyEncryptionKey/.test(e.message) && !e.message.includes('too-short-secret-value'));
  });

  it('a wrong key, a missing key file and a key file others can read each stop the CLI with one line naming what to fix', async () => {
    const database = join(dir, 'cli.db');
    const env = { PORTCULLIS_DATABASE: database };
    assert.equal((await runCli(['keys', 'rotate'], env)).code, 0);
    const keyFile = defaultKeyFile(database);

    const wrong = await runCli(['keys', 'list'], { ...env, PORTCULLIS_KEY_ENCRYPTION_KEY: newKeyEncryptionKeyText() });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /PORTCULLIS_KEY_ENCRYPTION_KEY/);
    assert.equal(wrong.stderr.trim().split('\n').length, 1, `one line, no stack trace: ${wrong.stderr}`);

    chmodSync(keyFile, 0o640);
    const exposed = await runCli(['keys', 'list'], env);
    assert.equal(exposed.code, 1);
    assert.match(exposed.stderr, /can be read by other users.*chmod 600/);
    assert.equal(exposed.stderr.trim().split('\n').length, 1, exposed.stderr);
    chmodSync(keyFile, 0o600);

    const aside = `${keyFile}.aside`;
    renameSync(keyFile, aside);
    const missing = await runCli(['keys', 'list'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /key file .* is missing/);
    assert.equal(existsSync(keyFile), false, 'no new key is made for a database that has secrets');
    renameSync(aside, keyFile);
    assert.equal((await runCli(['keys', 'list'], env)).code, 0);
  });

  it('keys rewrap re-encrypts everything under the new key while the previous one is accepted; then the old key alone no longer opens it', async () => {
    const database = join(dir, 'rewrap.db');
    const oldKey = newKeyEncryptionKeyText();
    const newKey = newKeyEncryptionKeyText();
    const old = await openSqliteStorage(database, { keyRing: new KeyRing(parseKeyEncryptionKey(oldKey, 'old')) });
    await old.signingKeys.addIfNoneActive(await createSigningKey('ES256', Date.now()));
    await old.settings.putIfAbsent('refresh-successor-key', 'successor-key-value');
    const [before] = await old.signingKeys.list();
    await old.close();

    const rotating = { PORTCULLIS_DATABASE: database, PORTCULLIS_KEY_ENCRYPTION_KEY: newKey, PORTCULLIS_PREVIOUS_KEY_ENCRYPTION_KEYS: oldKey };
    const first = await runCli(['keys', 'rewrap'], rotating);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Re-encrypted 2 stored secrets/);
    assert.match((await runCli(['keys', 'rewrap'], rotating)).stdout, /already encrypted with the current/);

    const rewrapped = await openSqliteStorage(database, { keyRing: new KeyRing(parseKeyEncryptionKey(newKey, 'new')) });
    assert.deepEqual(await rewrapped.signingKeys.list(), [before]);
    assert.equal(await rewrapped.settings.get('refresh-successor-key'), 'successor-key-value');
    await rewrapped.close();
    await assert.rejects(openSqliteStorage(database, { keyRing: new KeyRing(parseKeyEncryptionKey(oldKey, 'old')) }), /PORTCULLIS_PREVIOUS_KEY_ENCRYPTION_KEYS/);
  });
});

describe('HARD-4 upgrade: a database written in clear by an earlier version', () => {
  it('is encrypted on start, reads back the same, and keeps one active signing key (HARD-6)', async () => {
    const database = join(dir, 'earlier-version.db');
    const raw = new DatabaseSync(database);
    const db = new Kysely<any>({
      dialect: new SqliteDialect({
        database: {
          close: () => raw.close(),
          prepare: (text: string) => {
            const statement = raw.prepare(text);
            return { reader: statement.columns().length > 0, all: (p) => statement.all(...(p as never[])), run: (p) => statement.run(...(p as never[])), iterate: (p) => statement.iterate(...(p as never[])) as never };
          },
        },
      }),
    });
    // What release 003 left: signing keys and settings in clear, and two active keys from a racy start.
    const migrated = await new Migrator({ db, provider: migrationProvider }).migrateTo('003-client-keys');
    assert.equal(migrated.error, undefined);
    const older = await createSigningKey('ES256', 1_000);
    const newer = await createSigningKey('ES256', 2_000);
    for (const k of [older, newer]) {
      await db.insertInto('signing_keys').values({ kid: k.kid, alg: k.alg, private_jwk: k.privateJwk, public_jwk: k.publicJwk, created_at: k.createdAt, retired_at: null, publish_until: null }).execute();
    }
    await db.insertInto('settings').values([{ name: 'refresh-successor-key', value: 'plain-successor-key' }, { name: 'login_csrf_key', value: 'plain-csrf-key' }]).execute();
    await db.destroy();

    const storage = await openSqliteStorage(database);
    try {
      const keys = await storage.signingKeys.list();
      assert.deepEqual(keys.map((k) => k.privateJwk), [older.privateJwk, newer.privateJwk]);
      assert.deepEqual(keys.filter((k) => k.retiredAt === null).map((k) => k.kid), [newer.kid], 'the newest stays active');
      assert.ok(keys.find((k) => k.kid === older.kid)!.publishUntil! > Date.now(), 'the other stays published for its tokens');
      assert.equal(await storage.settings.get('refresh-successor-key'), 'plain-successor-key');
    } finally {
      await storage.close();
    }
    const stored = everyStoredValue(database);
    for (const secret of [older.privateJwk, newer.privateJwk, 'plain-successor-key', 'plain-csrf-key']) {
      assert.ok(!stored.some((v) => v.value.includes(secret)), 'a secret is still in clear');
    }
    assert.equal(stored.filter((v) => v.table === 'signing_keys' && v.column === 'private_jwk' && v.value.startsWith('pcenc1.')).length, 2);
  });
});
