import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCompleted, runClientFlow } from './client-flow.ts';
import { startClientsHarness, type ClientsHarness } from './harness.ts';
import { VS_CODE } from './profiles.ts';

/**
 * VS Code identifies itself by a metadata document at `/oauth/client-metadata.json` (vscode.dev's path;
 * here on the test's https document server) listing `http://127.0.0.1:33418/` and its vscode.dev
 * redirect pages. When 33418 is busy it listens on a random port instead (vscode#278512).
 */
describe('VS Code: CIMD with 127.0.0.1:33418, a random port when that is busy, and https://vscode.dev/redirect', () => {
  let h: ClientsHarness;
  before(async () => {
    h = await startClientsHarness();
  });
  after(() => h.close());

  it('authorizes on 127.0.0.1:33418, refreshes and lists tools', async () => {
    const run = await runClientFlow(h, VS_CODE);
    assertCompleted(h, run);
    assert.equal(run.authorization.redirectUri, 'http://127.0.0.1:33418/');
    assert.equal(new URL(run.registered.client.client_id).pathname, '/oauth/client-metadata.json');
  });

  it('AS-23 / RFC 8252 §7.3 with 33418 busy, a random loopback port is accepted for the same document', async () => {
    const run = await runClientFlow(h, VS_CODE, { requestRedirectUri: 'http://127.0.0.1:{port}/' });
    assertCompleted(h, run);
    assert.notEqual(new URL(run.authorization.redirectUri).port, '33418');
    assert.equal(run.authorization.callback.port, new URL(run.authorization.redirectUri).port);
  });

  it('authorizes back to https://vscode.dev/redirect (VS Code for the Web)', async () => {
    const run = await runClientFlow(h, VS_CODE, { requestRedirectUri: 'https://vscode.dev/redirect' });
    assertCompleted(h, run);
    assert.equal(run.authorization.callback.origin + run.authorization.callback.pathname, 'https://vscode.dev/redirect');
  });
});
