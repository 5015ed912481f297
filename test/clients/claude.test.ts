import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { removeClient } from '../../src/admin/actions.ts';
import { assertCompleted, authorize, discover, redeem, refresh, register, runClientFlow, useMcp } from './client-flow.ts';
import { startClientsHarness, type ClientsHarness } from './harness.ts';
import { CLAUDE } from './profiles.ts';

/**
 * Claude's web and desktop connectors register dynamically from Anthropic's backend with
 * `client_secret_post` and the redirect URI `https://claude.ai/api/mcp/auth_callback`, ask for the
 * challenge scope with `offline_access openid profile` and `prompt=consent`, and register again when the
 * token endpoint answers `invalid_client` (claude-ai-mcp#1043, #667, #840; Claude's support article).
 */
describe('Claude: DCR with client_secret_post, re-registration on invalid_client', () => {
  let h: ClientsHarness;
  before(async () => {
    h = await startClientsHarness();
  });
  after(() => h.close());

  it('registers with client_secret_post, consents, redeems the code posting the secret, refreshes and lists tools', async () => {
    const run = await runClientFlow(h, CLAUDE);
    assertCompleted(h, run);
    assert.equal(run.registered.client.token_endpoint_auth_method, 'client_secret_post');
    assert.ok(run.registered.client.client_secret, 'a confidential client gets a secret');
    assert.equal(run.authorization.authorizationUrl.searchParams.get('prompt'), 'consent');
    assert.equal(run.authorization.callback.origin + run.authorization.callback.pathname, 'https://claude.ai/api/mcp/auth_callback');
  });

  it('RFC 6749 §5.2 a wrong stored secret gets 401 invalid_client; Claude registers again and the new client completes the flow', async () => {
    const d = await discover(h, CLAUDE);
    const stale = await register(h, CLAUDE, d.as);
    const a = await authorize(CLAUDE, d, stale);
    const broken = { ...stale, auth: oauth.ClientSecretPost('not-the-secret-it-was-given') };
    const refused = await redeem(h, CLAUDE, d, broken, a).then(() => null, (e: unknown) => e);
    assert.ok(refused instanceof oauth.ResponseBodyError, String(refused));
    assert.equal(refused.status, 401);
    assert.equal(refused.error, 'invalid_client');

    const fresh = await runClientFlow(h, CLAUDE, { discovery: d });
    assertCompleted(h, fresh);
    assert.notEqual(fresh.registered.client.client_id, stale.client.client_id, 'a new registration');
  });

  it('RFC 6749 §5.2 its client deleted on the server, the refresh gets 401 invalid_client; Claude registers again and authorizes anew', async () => {
    const first = await runClientFlow(h, CLAUDE);
    // As `portcullis clients remove` or /admin would (an operator cleaning up, say).
    assert.equal(await removeClient(h.real.portcullis.ctx, { via: 'cli' }, first.registered.client.client_id), true);
    const refused = await refresh(h, CLAUDE, first.discovery, first.registered, first.refreshed.refresh_token!).then(() => null, (e: unknown) => e);
    assert.ok(refused instanceof oauth.ResponseBodyError, String(refused));
    assert.equal(refused.status, 401);
    assert.equal(refused.error, 'invalid_client');
    await assert.rejects(useMcp(h.mcpUrl, first.refreshed.access_token), 'the deleted client\'s tokens are revoked with it');

    const again = await runClientFlow(h, CLAUDE, { discovery: first.discovery });
    assertCompleted(h, again);
    assert.notEqual(again.registered.client.client_id, first.registered.client.client_id);
  });
});
