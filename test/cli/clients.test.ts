import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { hashSecret } from '../../src/util/crypto.ts';
import { runCli, tempDatabase } from './helpers.ts';

describe('portcullis clients', () => {
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

  let confidentialId = '';

  it('clients add --confidential prints the client_id and the secret once; only the hash is stored', async () => {
    const r = await runCli(
      ['clients', 'add', '--name', 'Reporting job', '--redirect-uri', 'https://reports.example/cb', '--redirect-uri', 'http://127.0.0.1/cb', '--confidential', '--grant', 'refresh_token'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    confidentialId = /client_id\s+(\S+)/.exec(r.stdout)?.[1] ?? '';
    const secret = /client_secret\s+(\S+)/.exec(r.stdout)?.[1] ?? '';
    assert.match(confidentialId, /^cl_/);
    assert.match(secret, /^pcs_/);
    const client = await stored(confidentialId);
    assert.ok(client);
    assert.equal(client.source, 'cli');
    assert.equal(client.tokenEndpointAuthMethod, 'client_secret_basic');
    assert.deepEqual(client.grantTypes, ['authorization_code', 'refresh_token']);
    assert.deepEqual(client.redirectUris, ['https://reports.example/cb', 'http://127.0.0.1/cb']);
    assert.equal(client.secretHash, hashSecret(secret));
  });

  it('clients add without --confidential makes a public client (no secret)', async () => {
    const r = await runCli(['clients', 'add', '--name', 'Desk app', '--redirect-uri', 'cursor://anysphere.cursor-mcp/oauth/callback'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /client_secret/);
    const id = /client_id\s+(\S+)/.exec(r.stdout)?.[1] ?? '';
    assert.equal((await stored(id))?.tokenEndpointAuthMethod, 'none');
  });

  it('AS-22 clients add applies the registration rules: a plain-http redirect URI is refused with exit 1', async () => {
    const r = await runCli(['clients', 'add', '--name', 'Bad', '--redirect-uri', 'http://example.com/cb'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Redirect URI refused: http redirect URIs are allowed only on localhost/);
    const missing = await runCli(['clients', 'add', '--name', 'No URI'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /redirect_uris/);
  });

  it('RFC 9449 §5.2 clients add --dpop makes a client that must use DPoP; without it, one that need not', async () => {
    const r = await runCli(['clients', 'add', '--name', 'Bound job', '--grant', 'client_credentials', '--confidential', '--dpop'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /DPoP\s+required/);
    assert.equal((await stored(/client_id\s+(\S+)/.exec(r.stdout)?.[1] ?? ''))?.dpopBoundAccessTokens, true);
    assert.equal((await stored(confidentialId))?.dpopBoundAccessTokens, undefined);
  });

  it('clients list shows both clients with type, origin, last use and live grants', async () => {
    const r = await runCli(['clients', 'list'], env);
    assert.equal(r.code, 0, r.stderr);
    const row = r.stdout.split('\n').find((l) => l.startsWith(confidentialId));
    assert.ok(row, r.stdout);
    assert.match(row, /confidential\s+cli\s+\S+\s+never\s+0\s+Reporting job\s+https:\/\/reports\.example\/cb http:\/\/127\.0\.0\.1\/cb$/);
    assert.match(r.stdout, /public\s+cli\s+\S+\s+never\s+0\s+Desk app/);
  });

  it('clients list neutralises terminal escape sequences in client-supplied names', async () => {
    const storage = await openSqliteStorage(db.database);
    try {
      const evil = { ...(await storage.clients.get(confidentialId))!, clientId: 'cl_evil', clientName: 'x\u001b[2Jy', metadataHash: null };
      await storage.clients.create(evil);
    } finally {
      await storage.close();
    }
    const r = await runCli(['clients', 'list'], env);
    assert.ok(!r.stdout.includes('\u001b'));
    assert.match(r.stdout, /x\?\[2Jy/);
  });

  it('clients remove deletes the client; an unknown id exits 1', async () => {
    const r = await runCli(['clients', 'remove', confidentialId], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await stored(confidentialId), null);
    const again = await runCli(['clients', 'remove', confidentialId], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /There is no client with id/);
  });
});
