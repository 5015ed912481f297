import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCompleted, runClientFlow } from './client-flow.ts';
import { startClientsHarness, type ClientsHarness } from './harness.ts';
import { CURSOR } from './profiles.ts';

/**
 * Cursor registers dynamically as a public client with three redirect URIs in one request: its
 * `cursor://` private-use scheme, an https one and a loopback one (AS-22, RFC 8252 §7.1). One refused
 * URI would fail the whole registration, and Cursor would be stranded.
 */
describe('Cursor: DCR public client with cursor://, https and loopback redirect URIs at once', () => {
  let h: ClientsHarness;
  before(async () => {
    h = await startClientsHarness();
  });
  after(() => h.close());

  it('registers all three URIs, authorizes back to cursor://, refreshes and lists tools', async () => {
    const run = await runClientFlow(h, CURSOR);
    assertCompleted(h, run);
    assert.deepEqual(run.registered.client.redirect_uris, CURSOR.redirectUris, 'every URI registered as sent');
    assert.equal(run.registered.client.token_endpoint_auth_method, 'none');
    assert.equal(run.registered.client.client_secret, undefined, 'a public client gets no secret');
    assert.equal(run.authorization.callback.protocol, 'cursor:');
  });
});
