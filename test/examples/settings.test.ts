import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startExample } from './harness.ts';

const MISSING = /Set STYTCH_PROJECT_ID and STYTCH_DOMAIN \(Stytch\), or AUTHORIZATION_SERVER/;

describe('examples without an authorization server configured', () => {
  for (const name of ['express', 'hono', 'node-http']) {
    it(`examples/${name} refuses to start and names the settings it needs`, async () => {
      await assert.rejects(startExample(name, {}), (error: Error) => /exited \(code 1\) before listening/.test(error.message) && MISSING.test(error.message));
    });
  }

  it('examples/next: the route modules refuse to load and name the settings they need', async () => {
    for (const name of ['STYTCH_PROJECT_ID', 'STYTCH_DOMAIN', 'AUTHORIZATION_SERVER']) delete process.env[name];
    await assert.rejects(import(new URL('../../examples/next/app/mcp/route.ts', import.meta.url).href), MISSING);
  });
});
