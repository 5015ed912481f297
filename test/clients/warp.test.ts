import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCompleted, runClientFlow } from './client-flow.ts';
import { startClientsHarness, type ClientsHarness } from './harness.ts';
import { WARP } from './profiles.ts';

/**
 * Warp sends no `resource` parameter (RFC 8707) at /authorize or /token (warp docs#422). The token must
 * still be usable at the MCP server: with no `resource` the audience is this server's MCP endpoint.
 */
describe('Warp: no resource parameter at /authorize and /token', () => {
  let h: ClientsHarness;
  before(async () => {
    h = await startClientsHarness();
  });
  after(() => h.close());

  it('RFC 8707 §2 absent resource: the token audience defaults to the MCP server, refresh too, and tools are listed', async () => {
    const run = await runClientFlow(h, WARP);
    assert.equal(run.authorization.authorizationUrl.searchParams.has('resource'), false);
    // assertCompleted checks `aud` equals the MCP URL for the first and the refreshed token.
    assertCompleted(h, run);
  });
});
