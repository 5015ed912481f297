import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { hashSecret } from '../../src/util/crypto.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { PUBLIC_CLIENT, register } from './helpers.ts';

type Json = Record<string, unknown>;

describe('dynamic client registration (RFC 7591, AS-05a, AS-05b, SEC-50)', () => {
  let t: TestApp;
  before(async () => {
    // A high limit: rate limiting has its own tests.
    t = await createTestApp({ registration: { enabled: true, perMinute: 10_000 } });
  });
  after(() => t.close());

  async function accepted(body: unknown): Promise<Json> {
    const res = await register(t, body);
    const json = (await res.json()) as Json;
    assert.equal(res.status, 201, JSON.stringify(json));
    return json;
  }

  async function refused(body: unknown, error: string, descriptionPattern?: RegExp): Promise<void> {
    const before = await t.storage.clients.count();
    const res = await register(t, body);
    assert.equal(res.status, 400);
    const json = (await res.json()) as Json;
    assert.equal(json.error, error, JSON.stringify(json));
    assert.equal(typeof json.error_description, 'string');
    if (descriptionPattern) assert.match(json.error_description as string, descriptionPattern);
    assert.equal(await t.storage.clients.count(), before, 'a refused registration stores nothing');
  }

  describe('accepted registrations', () => {
    it('SEC-50 a public client gets 201 with client_id, client_id_issued_at and every registered value, and no secret', async () => {
      const res = await register(t, PUBLIC_CLIENT);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const json = (await res.json()) as Json;
      assert.match(json.client_id as string, /^cl_[A-Za-z0-9_-]{22}$/);
      assert.equal(json.client_id_issued_at, Math.floor(t.clock.now() / 1000));
      assert.equal(json.client_name, 'Example MCP client');
      assert.deepEqual(json.redirect_uris, PUBLIC_CLIENT.redirect_uris);
      assert.deepEqual(json.grant_types, ['authorization_code', 'refresh_token']);
      assert.deepEqual(json.response_types, ['code']);
      assert.equal(json.token_endpoint_auth_method, 'none');
      assert.equal(json.application_type, 'native');
      assert.equal(json.client_secret, undefined);
      assert.equal(json.client_secret_expires_at, undefined);
      const stored = await t.storage.clients.get(json.client_id as string);
      assert.equal(stored?.secretHash, null);
      assert.equal(stored?.source, 'dcr');
    });

    it('SEC-50 defaults are applied and echoed: client_secret_basic (RFC 7591 §2), authorization_code, code, a name', async () => {
      const json = await accepted({ redirect_uris: ['https://app.example/callback'] });
      assert.equal(json.token_endpoint_auth_method, 'client_secret_basic');
      assert.deepEqual(json.grant_types, ['authorization_code']);
      assert.deepEqual(json.response_types, ['code']);
      assert.equal(json.client_name, 'Unnamed client');
      assert.equal(json.application_type, 'web');
    });

    it('SEC-50 a confidential client gets its secret once, stored only as a hash, never expiring', async () => {
      const json = await accepted({ redirect_uris: ['https://app.example/callback'], token_endpoint_auth_method: 'client_secret_basic' });
      const secret = json.client_secret as string;
      assert.match(secret, /^pcs_[A-Za-z0-9_-]{43}$/);
      assert.equal(json.client_secret_expires_at, 0);
      const stored = await t.storage.clients.get(json.client_id as string);
      assert.equal(stored?.secretHash, hashSecret(secret));
      assert.ok(!JSON.stringify(stored).includes(secret), 'the clear secret is nowhere in storage');
      assert.ok(!t.logger.lines.some((l) => l.includes(secret)), 'the secret is never logged');
    });

    it('SEC-50 client_secret_post is accepted and echoed', async () => {
      const json = await accepted({ redirect_uris: ['https://app.example/callback'], token_endpoint_auth_method: 'client_secret_post' });
      assert.equal(json.token_endpoint_auth_method, 'client_secret_post');
      assert.equal(typeof json.client_secret, 'string');
    });

    const realClients: [string, string[]][] = [
      ['Cursor', ['cursor://anysphere.cursor-mcp/oauth/callback']],
      ['VS Code', ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect']],
      ['VS Code (custom scheme)', ['vscode://vscode.github-authentication/did-authenticate']],
      ['Claude (web)', ['https://claude.ai/api/mcp/auth_callback']],
      ['Claude (desktop)', ['claude://claude.ai/oauth/callback']],
      ['mcp-remote', ['http://localhost:3334/oauth/callback']],
      ['IPv6 loopback', ['http://[::1]:8080/cb']],
    ];
    for (const [name, uris] of realClients) {
      it(`AS-22 RFC 8252 §7 redirect URIs of ${name} are accepted: ${uris.join(', ')}`, async () => {
        const json = await accepted({ ...PUBLIC_CLIENT, client_name: name, redirect_uris: uris });
        assert.deepEqual(json.redirect_uris, uris);
      });
    }

    it('AS-31 application_type is stored as sent; when absent it is derived from the redirect URIs', async () => {
      assert.equal((await accepted({ ...PUBLIC_CLIENT, application_type: 'web' })).application_type, 'web');
      assert.equal((await accepted({ ...PUBLIC_CLIENT, client_name: 'n', application_type: 'native' })).application_type, 'native');
      assert.equal((await accepted({ ...PUBLIC_CLIENT, client_name: 'c', redirect_uris: ['cursor://x/cb'] })).application_type, 'native');
      assert.equal((await accepted({ ...PUBLIC_CLIENT, client_name: 'w', redirect_uris: ['https://w.example/cb'] })).application_type, 'web');
    });

    it('RFC 7591 §2 a scope within scopes_supported is registered', async () => {
      const json = await accepted({ ...PUBLIC_CLIENT, client_name: 'scoped', scope: 'tasks:read offline_access' });
      assert.equal(json.scope, 'tasks:read offline_access');
    });

    it('RFC 7591 §2 https client_uri and logo_uri are registered and echoed', async () => {
      const json = await accepted({ ...PUBLIC_CLIENT, client_name: 'branded', client_uri: 'https://app.example', logo_uri: 'https://app.example/logo.png' });
      assert.equal(json.client_uri, 'https://app.example');
      assert.equal(json.logo_uri, 'https://app.example/logo.png');
    });

    it('RFC 7591 §2 unknown fields are ignored, not echoed, not refused', async () => {
      const json = await accepted({ ...PUBLIC_CLIENT, client_name: 'extra', software_id: 'x', contacts: ['a@b.c'], jwks_uri: 'https://x/j', tos_uri: 5 });
      assert.equal(json.software_id, undefined);
      assert.equal(json.contacts, undefined);
    });

    it('a duplicated redirect URI or grant type is stored once', async () => {
      const json = await accepted({ ...PUBLIC_CLIENT, client_name: 'dup', redirect_uris: ['https://a.example/cb', 'https://a.example/cb'], grant_types: ['authorization_code', 'authorization_code'] });
      assert.deepEqual(json.redirect_uris, ['https://a.example/cb']);
      assert.deepEqual(json.grant_types, ['authorization_code']);
    });

    it('SEC-50 the registration is audited without the secret', async () => {
      const json = await accepted({ ...PUBLIC_CLIENT, client_name: 'audited', token_endpoint_auth_method: 'client_secret_basic' });
      const line = t.logger.records().find((r) => r.msg === 'client.registered' && r.client_id === json.client_id);
      assert.ok(line);
      assert.equal(line.audit, true);
      assert.ok(!JSON.stringify(line).includes(json.client_secret as string));
    });
  });

  describe('refused redirect URIs → 400 invalid_redirect_uri (SEC-03, SEC-10)', () => {
    const cases: [string, unknown][] = [
      ['plain http on a non-loopback host (AS-22)', ['http://example.com/cb']],
      ['a fragment', ['https://app.example/cb#frag']],
      ['a wildcard', ['https://*.example.com/cb']],
      ['javascript:', ['javascript:alert(1)']],
      ['data:', ['data:text/html,hi']],
      ['file:', ['file:///etc/passwd']],
      ['a relative URI', ['/callback']],
      ['credentials in the URI', ['https://user:pw@app.example/cb']],
      ['one bad URI among good ones', ['https://app.example/cb', 'http://evil.example/cb']],
      ['an empty list', []],
      ['a string instead of a list', 'https://app.example/cb'],
      ['a non-string entry', [42]],
      ['too many URIs', Array.from({ length: 21 }, (_, i) => `https://app.example/cb${i}`)],
    ];
    for (const [name, redirectUris] of cases) {
      it(`refuses ${name}`, async () => {
        await refused({ ...PUBLIC_CLIENT, redirect_uris: redirectUris }, 'invalid_redirect_uri');
      });
    }
    it('refuses a registration without redirect_uris', async () => {
      const { redirect_uris: _, ...rest } = PUBLIC_CLIENT;
      await refused(rest, 'invalid_redirect_uri', /redirect_uris is required/);
    });
  });

  describe('refused metadata → 400 invalid_client_metadata', () => {
    const cases: [string, Json, RegExp?][] = [
      ['refresh_token without authorization_code (RFC 7591 §2.1)', { grant_types: ['refresh_token'] }, /authorization_code/],
      ['the implicit grant', { grant_types: ['authorization_code', 'implicit'] }, /implicit/],
      ['client_credentials (pre-registered clients only, CC-02)', { grant_types: ['authorization_code', 'client_credentials'] }, /portcullis clients add/],
      ['an empty grant_types', { grant_types: [] }],
      ['response_types token', { response_types: ['code', 'token'] }, /token/],
      ['response_types without code while authorization_code is registered', { response_types: ['id_token'] }],
      ['an auth method the token endpoint does not accept', { token_endpoint_auth_method: 'client_secret_jwt' }, /none, client_secret_basic, client_secret_post, private_key_jwt/],
      ['a non-string auth method', { token_endpoint_auth_method: 1 }],
      ['an unknown application_type', { application_type: 'desktop' }],
      ['a scope the server does not offer', { scope: 'tasks:read admin' }, /admin/],
      ['a non-string scope', { scope: ['tasks:read'] }],
      ['a client_name over 200 characters', { client_name: 'x'.repeat(201) }],
      ['a client_name with a right-to-left override', { client_name: 'Safe\u202Eevil' }],
      ['a client_name with a control character', { client_name: 'a\nb' }],
      ['a non-string client_name', { client_name: { en: 'x' } }],
      ['an http client_uri', { client_uri: 'http://app.example' }],
      ['a javascript: logo_uri', { logo_uri: 'javascript:alert(1)' }],
    ];
    for (const [name, change, pattern] of cases) {
      it(`refuses ${name}`, async () => {
        await refused({ ...PUBLIC_CLIENT, ...change }, 'invalid_client_metadata', pattern);
      });
    }

    it('refuses a body that is not JSON', async () => {
      await refused('redirect_uris=https://app.example/cb', 'invalid_client_metadata');
    });

    it('refuses a JSON body that is not an object', async () => {
      await refused(JSON.stringify([PUBLIC_CLIENT]), 'invalid_client_metadata');
      await refused('null', 'invalid_client_metadata');
    });

    it('refuses a body over 64 KiB with 413', async () => {
      const res = await register(t, { ...PUBLIC_CLIENT, client_name: 'big', padding: 'x'.repeat(70_000) });
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as Json).error, 'invalid_client_metadata');
    });
  });

  describe('identical public registrations reuse one client', () => {
    let fresh: TestApp;
    beforeEach(async () => {
      fresh = await createTestApp({ registration: { enabled: true, perMinute: 10_000 } });
    });

    it('the same public metadata twice returns the same client_id (201 both times) and stores one client', async () => {
      try {
        const first = await register(fresh, PUBLIC_CLIENT);
        fresh.clock.advance(5000);
        const second = await register(fresh, PUBLIC_CLIENT);
        assert.equal(first.status, 201);
        assert.equal(second.status, 201);
        const a = (await first.json()) as Json;
        const b = (await second.json()) as Json;
        assert.equal(b.client_id, a.client_id);
        assert.equal(b.client_id_issued_at, a.client_id_issued_at, 'the original registration is returned');
        assert.equal(await fresh.storage.clients.count(), 1);
      } finally {
        await fresh.close();
      }
    });

    it('order of redirect URIs and grant types does not matter; any real difference makes a new client', async () => {
      try {
        const base = { ...PUBLIC_CLIENT, redirect_uris: ['http://127.0.0.1:1/cb', 'cursor://x/cb'] };
        const id = async (body: unknown) => ((await (await register(fresh, body)).json()) as Json).client_id;
        const original = await id(base);
        assert.equal(await id({ ...base, redirect_uris: ['cursor://x/cb', 'http://127.0.0.1:1/cb'], grant_types: ['refresh_token', 'authorization_code'] }), original);
        assert.notEqual(await id({ ...base, client_name: 'Another name' }), original);
        assert.notEqual(await id({ ...base, redirect_uris: ['cursor://x/cb'] }), original);
        assert.notEqual(await id({ ...base, grant_types: ['authorization_code'] }), original);
      } finally {
        await fresh.close();
      }
    });

    it('confidential registrations always create a new client with its own secret', async () => {
      try {
        const body = { ...PUBLIC_CLIENT, token_endpoint_auth_method: 'client_secret_basic' };
        const a = (await (await register(fresh, body)).json()) as Json;
        const b = (await (await register(fresh, body)).json()) as Json;
        assert.notEqual(a.client_id, b.client_id);
        assert.notEqual(a.client_secret, b.client_secret);
        assert.equal(await fresh.storage.clients.count(), 2);
      } finally {
        await fresh.close();
      }
    });
  });
});
