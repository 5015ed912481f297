import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/resolve.ts';
import { workersSettings } from '../../src/runtime/workers-config.ts';
import { TEST_KEK } from './harness.ts';

const BASE = { PORTCULLIS_PUBLIC_URL: 'https://portcullis.example.workers.dev', PORTCULLIS_KEY_ENCRYPTION_KEY: TEST_KEK };

describe('Workers settings: the Worker’s variables and secrets, with seed 2’s names', () => {
  it('seed 2 names configure Stytch login and the gateway as on Node; bindings that are not text are skipped', () => {
    const { config } = workersSettings({
      ...BASE,
      DB: { prepare() {} },
      IDENTITY_PROVIDER: 'stytch',
      STYTCH_PROJECT_ID: 'project-test-00000000-0000-0000-0000-000000000000',
      STYTCH_SECRET: 'secret-test-abc',
      STYTCH_PUBLIC_TOKEN: 'public-token-test-00000000-0000-0000-0000-000000000000',
      STYTCH_API_URL: 'https://test.stytch.com/v1/',
      REMOTE_MCP_SERVER_URL: 'https://tools.example.com',
    });
    assert.equal(config.identityProvider.kind, 'stytch');
    assert.equal(config.identityProvider.stytch?.apiUrl, 'https://test.stytch.com/v1');
    assert.equal(config.upstream?.url, 'https://tools.example.com/mcp');
    assert.equal(config.resource, 'https://portcullis.example.workers.dev/mcp');
  });

  it('the stdio gateway is Node-only: a clear error naming what to do instead', () => {
    assert.throws(
      () => workersSettings({ ...BASE, PORTCULLIS_UPSTREAM_COMMAND: 'npx -y @modelcontextprotocol/server-everything' }),
      (e: unknown) => e instanceof ConfigError && /PORTCULLIS_UPSTREAM_COMMAND cannot be used on Cloudflare Workers/.test(e.message) && /REMOTE_MCP_SERVER_URL/.test(e.message),
    );
  });

  it('settings that name files or another database are refused by name, not ignored', () => {
    for (const name of ['PORTCULLIS_DATABASE', 'DATABASE_URL', 'PORTCULLIS_KEY_ENCRYPTION_KEY_FILE', 'PORTCULLIS_INITIAL_ADMIN_PASSWORD_FILE', 'PORTCULLIS_CONFIG', 'PORTCULLIS_TRUSTED_PROXIES']) {
      assert.throws(() => workersSettings({ ...BASE, [name]: 'x' }), (e: unknown) => e instanceof ConfigError && e.message.startsWith(`${name} cannot be used on Cloudflare Workers`), name);
    }
  });

  it('HARD-4 the key-encryption key is required (D1 holds the sealed signing keys), and so is the public URL', () => {
    assert.throws(() => workersSettings({ PORTCULLIS_PUBLIC_URL: BASE.PORTCULLIS_PUBLIC_URL }), /Set PORTCULLIS_KEY_ENCRYPTION_KEY.*wrangler secret put PORTCULLIS_KEY_ENCRYPTION_KEY/);
    assert.throws(() => workersSettings({ PORTCULLIS_KEY_ENCRYPTION_KEY: TEST_KEK }), /Set PORTCULLIS_PUBLIC_URL/);
  });

  it('the first administrator’s password secret must be a valid password', () => {
    assert.throws(() => workersSettings({ ...BASE, PORTCULLIS_INITIAL_ADMIN_PASSWORD: 'short' }), /PORTCULLIS_INITIAL_ADMIN_PASSWORD: a password needs at least 10 characters/);
    assert.equal(workersSettings({ ...BASE, PORTCULLIS_INITIAL_ADMIN_PASSWORD: 'long enough password' }).initialAdminPassword, 'long enough password');
  });
});
