import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCompleted, runClientFlow } from './client-flow.ts';
import { startClientsHarness, type ClientsHarness } from './harness.ts';
import { GOOSE } from './profiles.ts';

/**
 * Goose dropped the RFC 9207 `iss` of the authorization response (goose#10677, #10981). The server
 * sends and advertises `iss`; a client that ignores it must still complete the flow: nothing after the
 * callback depends on the client echoing `iss`.
 */
describe('Goose: ignores iss in the authorization response', () => {
  let h: ClientsHarness;
  before(async () => {
    h = await startClientsHarness();
  });
  after(() => h.close());

  it('RFC 9207 the server sends iss, the client drops it, and the code, refresh and tools/list still work', async () => {
    const run = await runClientFlow(h, GOOSE);
    assert.equal(run.discovery.as.authorization_response_iss_parameter_supported, true, 'the server advertises iss');
    assert.equal(run.authorization.callback.searchParams.get('iss'), run.discovery.as.issuer, 'and sends it');
    assert.equal(run.authorization.params.has('iss'), false, 'the client went on without it');
    assertCompleted(h, run);
  });
});
