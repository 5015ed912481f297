import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderStartupBanner } from '../../src/bootstrap/banner.ts';
import { loadConfigInput } from '../../src/config/env.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { startNodeServer } from '../../src/runtime/node.ts';
import { tempDatabase } from '../cli/helpers.ts';

/** The start-up banner with an upstream identity provider: what the operator must register there. */

const STYTCH = { IDENTITY_PROVIDER: 'stytch', STYTCH_PROJECT_ID: 'project-test-6c20cd16-3f4a-4b4a-9a2c-1d2e3f4a5b6c', STYTCH_SECRET: 'secret-test-abcdefghijklmnopqrstuvwxyz0123', STYTCH_PUBLIC_TOKEN: 'public-token-test-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0' };
const OIDC = { IDENTITY_PROVIDER: 'oidc', OAUTH_ISSUER: 'https://accounts.example.com', OAUTH_CLIENT_ID: 'portcullis-client', OAUTH_CLIENT_SECRET: 'a-real-client-secret-value-123' };
const fromEnv = (env: Record<string, string>) => resolveConfig(loadConfigInput({ PORTCULLIS_PUBLIC_URL: 'https://mcp.example.com', PORTCULLIS_DATABASE: ':memory:', ...env }, undefined));
const banner = (env: Record<string, string>) => renderStartupBanner({ config: fromEnv(env), listening: '127.0.0.1:3000', firstAdmin: null, cli: 'portcullis' });

describe('start-up banner with an upstream identity provider', () => {
  it('UP-03 Stytch: names the provider and the exact callback to register as a Login and a Sign-up redirect URL; no local-user hint', () => {
    const text = banner(STYTCH);
    assert.match(text, /Sign-in {10}Google, through Stytch \(project-test-6c20cd16-3f4a-4b4a-9a2c-1d2e3f4a5b6c\)\n/);
    assert.match(text, /Login AND a Sign-up redirect URL:\n {4}https:\/\/mcp\.example\.com\/callback\?tx=\{\}\n/);
    assert.doesNotMatch(text, /users add/, 'users come from the provider');
    assert.ok(!text.includes(STYTCH.STYTCH_SECRET), 'the project secret is never printed');
  });

  it('UP-03 OpenID Connect: names the provider and the exact redirect URI to register for our client id', () => {
    const text = banner(OIDC);
    assert.match(text, /Sign-in {10}accounts\.example\.com \(OpenID Connect, https:\/\/accounts\.example\.com\)\n/);
    assert.match(text, /redirect URI for client portcullis-client at the provider:\n {4}https:\/\/mcp\.example\.com\/callback\n/);
    assert.doesNotMatch(text, /users add/);
    assert.ok(!text.includes(OIDC.OAUTH_CLIENT_SECRET), 'the client secret is never printed');
  });

  it('local accounts: no sign-in line, no callback to register, and the local-user hint', () => {
    const text = banner({});
    assert.doesNotMatch(text, /Sign-in|callback/);
    assert.match(text, /portcullis users add <name>/);
  });

  it('a first start with Stytch creates no administrator account and prints no password', async () => {
    const db = tempDatabase();
    const server = await startNodeServer(resolveConfig({ ...loadConfigInput(STYTCH, undefined), port: 0, database: db.database }), { handleSignals: false, logger: createMemoryLogger() });
    try {
      assert.equal(server.firstAdmin, null);
      assert.equal(await server.portcullis.ctx.storage.users.count(), 0);
      const text = renderStartupBanner({ config: server.config, listening: server.listening, firstAdmin: server.firstAdmin, cli: 'portcullis' });
      assert.doesNotMatch(text, /password/);
      assert.match(text, new RegExp(`${server.config.issuer.replace(/[.]/g, '\\.')}/callback\\?tx=\\{\\}`));
    } finally {
      await server.close();
      db.cleanup();
    }
  });
});
