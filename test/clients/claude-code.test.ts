import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCompleted, runClientFlow } from './client-flow.ts';
import { startClientsHarness, type ClientsHarness } from './harness.ts';
import { CLAUDE_CODE } from './profiles.ts';

/**
 * Claude Code identifies itself by a client ID metadata document whose only redirect URI is a loopback
 * one without a port (`http://localhost/callback`), then listens on an ephemeral port and sends
 * `http://localhost:<port>/callback`. RFC 8252 §7.3: the server must let a loopback port vary (AS-23);
 * an AS that matches the port strictly breaks it (claude-code#47185).
 */
describe('Claude Code: CIMD with a port-less loopback redirect URI, authorized on an ephemeral port', () => {
  let h: ClientsHarness;
  before(async () => {
    h = await startClientsHarness();
  });
  after(() => h.close());

  it('AS-23 / RFC 8252 §7.3 the ephemeral port is accepted, the code redeemed with client_id alone, refreshed, tools listed', async () => {
    const run = await runClientFlow(h, CLAUDE_CODE);
    assertCompleted(h, run);
    const clientId = new URL(run.registered.client.client_id);
    assert.equal(clientId.protocol, 'https:');
    assert.equal(clientId.pathname, '/oauth/claude-code-client-metadata');
    assert.equal(h.documents.hits('/oauth/claude-code-client-metadata'), 1, 'fetched once, then cached');
    const sent = new URL(run.authorization.redirectUri);
    assert.equal(sent.hostname, 'localhost');
    assert.notEqual(sent.port, '', 'the request names a port the document does not');
    assert.equal(run.authorization.callback.port, sent.port, 'the code comes back to the port the client listens on');
  });

  it('a second run of the same install listens on another port and is accepted too', async () => {
    const first = await runClientFlow(h, CLAUDE_CODE);
    const second = await runClientFlow(h, CLAUDE_CODE, { discovery: first.discovery, registered: first.registered });
    assertCompleted(h, second);
    assert.notEqual(new URL(second.authorization.redirectUri).port, new URL(first.authorization.redirectUri).port);
  });
});
