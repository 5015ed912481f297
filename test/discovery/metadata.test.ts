import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { discoveryPaths } from '../../src/authorization/endpoints/metadata.ts';
import { createTestApp, TEST_ORIGIN, type TestApp } from '../helpers/app.ts';

const RFC8414 = '/.well-known/oauth-authorization-server';
const OIDC = '/.well-known/openid-configuration';

async function metadata(t: TestApp, path = RFC8414): Promise<Record<string, unknown>> {
  const res = await t.request(path);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return (await res.json()) as Record<string, unknown>;
}

describe('authorization server metadata (RFC 8414, OIDC Discovery)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('AS-04 / RFC 8414 §3.3 issuer is byte-identical to the configured issuer, at both well-known URLs', async () => {
    for (const path of [RFC8414, OIDC]) {
      const doc = await metadata(t, path);
      assert.equal(doc.issuer, TEST_ORIGIN);
      assert.equal(doc.issuer, t.ctx.config.issuer);
    }
  });

  it('AS-02b the RFC 8414 and OpenID documents are the same document', async () => {
    assert.deepEqual(await metadata(t, RFC8414), await metadata(t, OIDC));
  });

  it('AS-03 code_challenge_methods_supported is exactly ["S256"] (no plain)', async () => {
    assert.deepEqual((await metadata(t)).code_challenge_methods_supported, ['S256']);
  });

  it('SEC-49 lists every endpoint as an absolute URL under the issuer and the required fields explicitly', async () => {
    const doc = await metadata(t);
    assert.equal(doc.authorization_endpoint, `${TEST_ORIGIN}/authorize`);
    assert.equal(doc.token_endpoint, `${TEST_ORIGIN}/token`);
    assert.equal(doc.registration_endpoint, `${TEST_ORIGIN}/register`);
    assert.equal(doc.jwks_uri, `${TEST_ORIGIN}/jwks`);
    assert.equal(doc.userinfo_endpoint, `${TEST_ORIGIN}/userinfo`);
    assert.equal(doc.revocation_endpoint, `${TEST_ORIGIN}/revoke`);
    assert.equal(doc.introspection_endpoint, `${TEST_ORIGIN}/introspect`);
    assert.deepEqual(doc.response_types_supported, ['code']);
    assert.deepEqual(doc.response_modes_supported, ['query']);
    assert.deepEqual(doc.grant_types_supported, ['authorization_code', 'refresh_token', 'client_credentials']);
    assert.deepEqual(doc.token_endpoint_auth_methods_supported, ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    assert.deepEqual(doc.revocation_endpoint_auth_methods_supported, ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    // RFC 7662 §2.1: introspection is never open to unauthenticated callers.
    assert.deepEqual(doc.introspection_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
  });

  it('RFC 9207 authorization_response_iss_parameter_supported is true', async () => {
    assert.equal((await metadata(t)).authorization_response_iss_parameter_supported, true);
  });

  it('scopes_supported lists the configured scopes plus offline_access and openid', async () => {
    const scopes = (await metadata(t)).scopes_supported as string[];
    for (const s of ['tasks:read', 'tasks:write', 'offline_access', 'openid']) assert.ok(scopes.includes(s), s);
  });

  it('OIDC Discovery §3 required OP fields: subject types, ID token algorithms matching the signing key', async () => {
    const doc = await metadata(t, OIDC);
    assert.deepEqual(doc.subject_types_supported, ['public']);
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ['ES256']);
    const jwks = (await (await t.request('/jwks')).json()) as { keys: { alg: string }[] };
    for (const key of jwks.keys) assert.ok((doc.id_token_signing_alg_values_supported as string[]).includes(key.alg));
    assert.ok((doc.claims_supported as string[]).includes('sub'));
    // OIDC's default for request_uri_parameter_supported is true: it must be switched off explicitly.
    assert.equal(doc.request_uri_parameter_supported, false);
  });

  it('advertises only what exists: no implicit, no plain PKCE, no symmetric client assertions, no ID-JAG without a trusted IdP', async () => {
    const doc = await metadata(t);
    // AS-07: CIMD is on by default (test/cimd/ checks it is absent when switched off).
    assert.equal(doc.client_id_metadata_document_supported, true);
    assert.ok(!(doc.grant_types_supported as string[]).includes('implicit'));
    assert.ok(!(doc.token_endpoint_auth_methods_supported as string[]).includes('client_secret_jwt'));
    assert.ok(!(doc.token_endpoint_auth_signing_alg_values_supported as string[]).some((alg) => alg.startsWith('HS') || alg === 'none'));
    assert.ok(!(doc.grant_types_supported as string[]).includes('urn:ietf:params:oauth:grant-type:jwt-bearer'));
  });

  it('every advertised endpoint is mounted (none answers 404)', async () => {
    const doc = await metadata(t);
    for (const field of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'jwks_uri', 'userinfo_endpoint', 'revocation_endpoint', 'introspection_endpoint']) {
      const url = new URL(doc[field] as string);
      const method = field === 'jwks_uri' || field === 'authorization_endpoint' || field === 'userinfo_endpoint' ? 'GET' : 'POST';
      const res = await t.request(url.pathname, { method });
      assert.notEqual(res.status, 404, `${field} ${url.pathname}`);
    }
  });

  it('SEC-24 metadata is CORS-readable and briefly cacheable', async () => {
    const res = await t.request(RFC8414, { headers: { Origin: 'https://inspector.example' } });
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://inspector.example');
    assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
  });

  it('no metadata is served at an MCP-path-inserted URL (its issuer would not match the URL)', async () => {
    assert.equal((await t.request(`${RFC8414}/mcp`)).status, 404);
  });
});

describe('metadata with registration disabled', () => {
  it('AS-05 registration_endpoint is absent and /register answers 404', async () => {
    const t = await createTestApp({ registration: { enabled: false, perMinute: 20 } });
    try {
      const doc = await metadata(t);
      assert.equal('registration_endpoint' in doc, false);
      const res = await t.request('/register', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'none' }),
      });
      assert.equal(res.status, 404);
      assert.equal(await t.storage.clients.count(), 0);
    } finally {
      await t.close();
    }
  });
});

describe('discovery paths (RFC 8414 §3.1, OIDC Discovery §4)', () => {
  it('AS-02b an origin issuer is served at the two root well-known URLs (RFC 8414 metadata, AS-02a)', () => {
    assert.deepEqual(discoveryPaths('https://mcp.example.com'), [RFC8414, OIDC]);
  });

  it('AS-02b an issuer with a path gets the path-inserted and path-appended forms', () => {
    assert.deepEqual(discoveryPaths('https://auth.example/tenant1'), [`${RFC8414}/tenant1`, `${OIDC}/tenant1`, `/tenant1${OIDC}`]);
  });
});
