/**
 * Revoke on the account page of one instance; the application's tokens presented to another instance
 * on the same PostgreSQL database: the refresh token is refused at once (storage decides), the access
 * token once the other instance's grant-status cache has expired (README: within five seconds).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { resolveConfig } from '../../src/config/resolve.ts';
import { sessionCsrfToken } from '../../src/identity/csrf.ts';
import { startLoginSession } from '../../src/identity/login-sessions.ts';
import { createUser } from '../../src/identity/users.ts';
import { KeyRing } from '../../src/keys/key-encryption.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import { openPostgresStorage } from '../../src/storage/postgres/open.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { revokeSubject } from '../../src/account/connected-apps.ts';
import { authorizationRequestUrl, authorizeWithForms, createPkcePair, inProcessFetch, registerPublicClient } from '../helpers/oauth-flow.ts';

const url = process.env.DATABASE_URL;
const ORIGIN = 'https://mcp.example.com';
const REDIRECT = 'http://127.0.0.1:8765/callback';
const USER = { username: 'alice', password: 'alice has a password' };

describe('issue 12 revoke across instances', { skip: url ? false : 'DATABASE_URL is not set' }, () => {
  const schema = `portcullis_test_${randomBytes(6).toString('hex')}`;
  const clock = new ManualClock(Date.now());
  let a: Portcullis;
  let b: Portcullis;

  before(async () => {
    const keyRing = KeyRing.ephemeral();
    const start = async () =>
      createPortcullis({
        config: resolveConfig({ publicUrl: ORIGIN, database: ':memory:' }),
        storage: await openPostgresStorage(url!, { schema, keyRing, maxConnections: 2 }),
        clock,
        logger: createMemoryLogger(),
      });
    a = await start();
    b = await start();
  });

  after(async () => {
    await a?.close();
    await b?.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  const mcp = async (instance: Portcullis, token: string) => {
    const response = await instance.app.fetch(
      new Request(`${ORIGIN}/mcp`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
      }),
    );
    await response.body?.cancel();
    return response.status;
  };

  it('the refresh token is refused by the other instance at once, the access token within five seconds', async () => {
    const { storage } = a.ctx;
    const user = await createUser(storage, USER, { now: clock.now(), random: a.ctx.random });
    const client = await registerPublicClient(storage, { redirectUris: [REDIRECT], clientName: 'Notes Desktop' });
    const pkce = createPkcePair();
    const callback = await authorizeWithForms({
      fetch: inProcessFetch(a.app),
      authorizationUrl: authorizationRequestUrl(ORIGIN, { response_type: 'code', client_id: client.clientId, redirect_uri: REDIRECT, code_challenge: pkce.challenge, code_challenge_method: 'S256', scope: 'tasks:read', resource: `${ORIGIN}/mcp` }),
      ...USER,
    });
    const tokenResponse = await a.app.fetch(
      new Request(`${ORIGIN}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: pkce.verifier, client_id: client.clientId, redirect_uri: REDIRECT }),
      }),
    );
    const tokens = (await tokenResponse.json()) as { access_token: string; refresh_token: string };
    assert.equal(await mcp(b, tokens.access_token), 200, 'instance B accepts the token (and caches that its grant is live)');

    const [grant] = await storage.grants.activityForUser(user.id, clock.now());
    const { session, setCookie } = await startLoginSession(a.ctx, user);
    const revoked = await a.app.fetch(
      new Request(`${ORIGIN}/account/revoke`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: setCookie.split(';')[0]! },
        body: new URLSearchParams({ grant: grant!.grant.id, csrf_token: sessionCsrfToken(session, 'account', revokeSubject(grant!.grant.id)) }),
      }),
    );
    assert.equal(revoked.status, 303);
    assert.equal(await mcp(a, tokens.access_token), 401, 'instance A refuses it at once');

    const refresh = await b.app.fetch(
      new Request(`${ORIGIN}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.clientId }),
      }),
    );
    assert.equal(refresh.status, 400);
    assert.equal(((await refresh.json()) as { error: string }).error, 'invalid_grant', 'instance B refuses the refresh token at once');

    clock.advance(5_001);
    assert.equal(await mcp(b, tokens.access_token), 401, 'instance B refuses the access token once its cache entry (5 s) has expired');
  });
});
