import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCompleted, runClientFlow } from './client-flow.ts';
import { startClientsHarness, type ClientsHarness } from './harness.ts';
import { CODEX_CLI, CODEX_CLI_AUTO } from './profiles.ts';

/**
 * Codex CLI registers as a public native client (it cannot send a client secret, codex#40783) on an
 * ephemeral 127.0.0.1 port, and takes the scopes it asks for from the authorization server metadata's
 * `scopes_supported`, not from the PRM or the challenge (codex#15643, #8889), with `openid profile email`.
 */
describe('Codex CLI: public client, scopes from the AS metadata', () => {
  let h: ClientsHarness;
  before(async () => {
    h = await startClientsHarness();
  });
  after(() => h.close());

  it('RFC 6749 §3.3 asks the AS metadata scopes plus openid profile email; the grant covers the tools; refresh and tools/list work', async () => {
    const run = await runClientFlow(h, CODEX_CLI);
    const asked = run.authorization.authorizationUrl.searchParams.get('scope')!.split(' ');
    for (const scope of ['openid', 'profile', 'email', ...(run.discovery.prm.scopes_supported ?? [])]) assert.ok(asked.includes(scope), `asked for ${scope}: ${asked.join(' ')}`);
    assert.equal(run.registered.client.client_secret, undefined, 'no secret to send');
    const granted = run.tokens.scope?.split(' ') ?? [];
    assert.ok(granted.includes('tasks:read') && granted.includes('tasks:write'), `granted: ${run.tokens.scope}`);
    assert.ok(run.tokens.id_token, 'openid was asked for: an ID token comes back (validated by oauth4webapi)');
    for (const scope of granted) assert.ok(run.discovery.as.scopes_supported?.includes(scope), `${scope} is offered; what is not offered is left out, and the token response says so`);
    assertCompleted(h, run);
  });

  it('RFC 6749 §3.3 the automatic flow asks only openid profile email offline_access (codex#17265) and still gets the tools\' scopes', async () => {
    const run = await runClientFlow(h, CODEX_CLI_AUTO);
    assert.equal(run.authorization.authorizationUrl.searchParams.get('scope'), 'openid profile email offline_access');
    const granted = run.tokens.scope?.split(' ') ?? [];
    assert.ok(granted.includes('tasks:read') && granted.includes('tasks:write'), `granted: ${run.tokens.scope}`);
    assert.ok(granted.includes('openid') && granted.includes('offline_access'), `the OIDC scopes it asked for are kept: ${run.tokens.scope}`);
    assertCompleted(h, run);
  });
});
