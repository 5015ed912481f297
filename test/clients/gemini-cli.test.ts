import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCompleted, discover, runClientFlow } from './client-flow.ts';
import { startClientsHarness, type ClientsHarness } from './harness.ts';
import { CURSOR, GEMINI_CLI } from './profiles.ts';

/**
 * Gemini CLI refuses a server whose protected resource metadata `resource` is not byte for byte the URL
 * it connected to (gemini-cli#20017). The operator's public URL must therefore be exact.
 */
describe('Gemini CLI: PRM resource equal to the connected URL, byte for byte', () => {
  let h: ClientsHarness;
  before(async () => {
    h = await startClientsHarness();
  });
  after(() => h.close());

  it('RFC 9728 §3.3 the PRM resource is the MCP URL exactly; DCR, authorize, refresh and tools/list work', async () => {
    const run = await runClientFlow(h, GEMINI_CLI);
    assert.deepEqual(Buffer.from(run.discovery.prm.resource, 'utf8'), Buffer.from(h.mcpUrl, 'utf8'));
    assertCompleted(h, run);
    assert.equal(run.authorization.redirectUri, 'http://localhost:7777/oauth/callback');
  });

  it('RFC 9728 §3.3 reached by another spelling than the public URL (localhost for 127.0.0.1), it refuses the server where a lenient client goes on', async () => {
    const alias = h.mcpUrl.replace('//127.0.0.1:', '//localhost:');
    assert.notEqual(alias, h.mcpUrl);
    await assert.rejects(discover(h, GEMINI_CLI, alias), /Gemini CLI refuses the server: PRM resource/);
    assert.equal((await discover(h, CURSOR, alias)).prm.resource, h.mcpUrl, 'the server names its configured public URL whatever the client typed');
  });
});
