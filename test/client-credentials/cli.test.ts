import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { runCli, tempDatabase } from '../cli/helpers.ts';
import { keyPair } from '../client-auth/helpers.ts';

/** `portcullis clients add` for machine clients (CC-02: pre-registered out of band) and private_key_jwt keys. */
describe('portcullis clients add: machine clients and client keys', () => {
  const db = tempDatabase();
  const env = { PORTCULLIS_DATABASE: db.database };
  after(() => db.cleanup());

  async function stored(clientId: string) {
    const storage = await openSqliteStorage(db.database);
    try {
      return await storage.clients.get(clientId);
    } finally {
      await storage.close();
    }
  }
  const idOf = (stdout: string) => /client_id\s+(\S+)/.exec(stdout)?.[1] ?? '';

  it('CC-02 --grant client_credentials --confidential: a secret client with only that grant and no redirect URI', async () => {
    const r = await runCli(['clients', 'add', '--name', 'Nightly job', '--grant', 'client_credentials', '--confidential', '--scope', 'tasks:read'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /client_secret\s+pcs_/);
    const client = await stored(idOf(r.stdout));
    assert.deepEqual(client?.grantTypes, ['client_credentials']);
    assert.deepEqual(client?.redirectUris, []);
    assert.deepEqual(client?.responseTypes, []);
    assert.equal(client?.tokenEndpointAuthMethod, 'client_secret_basic');
    assert.equal(client?.scope, 'tasks:read');
  });

  it('SEC-29 --jwks-file: a private_key_jwt client with its public keys stored and no secret', async () => {
    const key = await keyPair('ES256');
    const file = join(db.dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [key.publicJwk] }));
    const r = await runCli(['clients', 'add', '--name', 'Signed job', '--grant', 'client_credentials', '--jwks-file', file], env);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /client_secret/);
    const client = await stored(idOf(r.stdout));
    assert.equal(client?.tokenEndpointAuthMethod, 'private_key_jwt');
    assert.deepEqual(client?.jwks, { keys: [key.publicJwk] });
    assert.equal(client?.secretHash, null);
  });

  it('SEC-29 --jwks-uri: keys by https URL', async () => {
    const r = await runCli(['clients', 'add', '--name', 'Rotating job', '--grant', 'client_credentials', '--jwks-uri', 'https://jobs.example/jwks.json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stored(idOf(r.stdout)))?.jwksUri, 'https://jobs.example/jwks.json');
  });

  it('refuses a public machine client, a private key in --jwks-file and an http --jwks-uri', async () => {
    const key = await keyPair('ES256');
    const file = join(db.dir, 'private.json');
    writeFileSync(file, JSON.stringify({ keys: [key.privateJwk] }));
    for (const args of [
      ['--grant', 'client_credentials'],
      ['--grant', 'client_credentials', '--jwks-file', file],
      ['--grant', 'client_credentials', '--jwks-uri', 'http://jobs.example/jwks.json'],
    ]) {
      const r = await runCli(['clients', 'add', '--name', 'Bad', ...args], env);
      assert.notEqual(r.code, 0, args.join(' '));
    }
  });
});

describe('portcullis clients add: an ID-JAG client', () => {
  const db = tempDatabase();
  after(() => db.cleanup());

  it('EMA-02 --grant jwt-bearer --confidential works once an enterprise IdP is trusted, and only then', async () => {
    const grant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
    const args = ['clients', 'add', '--name', 'Corp agent', '--grant', grant, '--confidential'];
    const without = await runCli(args, { PORTCULLIS_DATABASE: db.database });
    assert.notEqual(without.code, 0);
    const r = await runCli(args, {
      PORTCULLIS_DATABASE: db.database,
      PORTCULLIS_TRUSTED_IDP_ISSUER: 'https://login.corp.example',
      PORTCULLIS_TRUSTED_IDP_JWKS_URL: 'https://login.corp.example/jwks',
    });
    assert.equal(r.code, 0, r.stderr);
    const storage = await openSqliteStorage(db.database);
    try {
      const client = await storage.clients.get(/client_id\s+(\S+)/.exec(r.stdout)?.[1] ?? '');
      assert.deepEqual(client?.grantTypes, [grant]);
    } finally {
      await storage.close();
    }
  });
});
