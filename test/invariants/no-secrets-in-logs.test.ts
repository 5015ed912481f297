import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFullFlow } from './flow.ts';

describe('GEN-06 nothing secret reaches a log', () => {
  it('a full flow (register, login, consent, code, token, MCP, refresh, introspect, revoke) logs no secret', async () => {
    const flow = await runFullFlow();
    const log = flow.app.logger.lines.join('\n');
    assert.ok(flow.app.logger.lines.length > 0, 'the flow wrote log lines (audit events at least)');
    assert.match(log, /token\.issued/, 'the audit trail is there');
    const secrets = { clientSecret: flow.clientSecret, code: flow.code, verifier: flow.verifier, accessToken: flow.accessToken, refreshToken: flow.refreshToken, password: flow.password };
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(value.length >= 10, `${name} is a real value`);
      assert.ok(!log.includes(value), `the ${name} appears in the log`);
    }
    // A JWT's signature alone is enough to replay it; its header and payload are not secret.
    const signature = flow.accessToken.split('.')[2] ?? '';
    assert.ok(!log.includes(signature), 'an access token signature appears in the log');
  });
});
