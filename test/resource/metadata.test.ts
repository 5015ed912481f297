import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestApp } from '../helpers/app.ts';

const EXPECTED = {
  resource: 'http://localhost:3000/mcp',
  authorization_servers: ['http://localhost:3000'],
  scopes_supported: ['tasks:read', 'tasks:write'],
  bearer_methods_supported: ['header'],
  resource_name: 'Portcullis',
  // RFC 9728 §2: DPoP-bound tokens are accepted beside bearer ones, with proofs by these algorithms.
  dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256'],
};

describe('Protected Resource Metadata (RFC 9728)', () => {
  it('RS-03b/RS-01 PRM at the path-inserted well-known URI (RFC 9728 §3.1)', async () => {
    const t = await createTestApp();
    const response = await t.request('/.well-known/oauth-protected-resource/mcp');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('Content-Type') ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), EXPECTED);
  });

  it('RS-03b PRM also at the root well-known URI', async () => {
    const t = await createTestApp();
    assert.deepEqual(await (await t.request('/.well-known/oauth-protected-resource')).json(), EXPECTED);
  });

  it('RS-20 tolerates a trailing slash on the request path', async () => {
    const t = await createTestApp();
    for (const path of ['/.well-known/oauth-protected-resource/mcp/', '/.well-known/oauth-protected-resource/']) {
      const response = await t.request(path);
      assert.equal(response.status, 200, path);
      assert.deepEqual(await response.json(), EXPECTED);
    }
  });

  it('RS-26 resource is byte-identical to the MCP URL and to the 401 challenge\'s resource_metadata target', async () => {
    const t = await createTestApp({ publicUrl: 'https://mcp.example.com', mcpPath: '/api/v1/mcp', serverName: 'Acme Tasks' });
    const challenge = await t.request('https://mcp.example.com/api/v1/mcp', { method: 'POST' });
    const url = /resource_metadata="([^"]+)"/.exec(challenge.headers.get('WWW-Authenticate') ?? '')?.[1];
    assert.equal(url, 'https://mcp.example.com/.well-known/oauth-protected-resource/api/v1/mcp');
    const prm = (await (await t.request(new URL(url).pathname)).json()) as Record<string, unknown>;
    assert.equal(prm['resource'], 'https://mcp.example.com/api/v1/mcp');
    assert.equal(prm['resource'], t.ctx.config.resource);
    assert.deepEqual(prm['authorization_servers'], ['https://mcp.example.com']);
    assert.equal(prm['resource_name'], 'Acme Tasks');
  });

  it('RS-16 offline_access is not in scopes_supported', async () => {
    const t = await createTestApp();
    const prm = (await (await t.request('/.well-known/oauth-protected-resource/mcp')).json()) as { scopes_supported: string[] };
    assert.ok(!prm.scopes_supported.includes('offline_access'));
    assert.ok(t.ctx.capabilities.scopesSupported.includes('offline_access'), 'while the authorization server offers it');
  });

  it('is readable cross-origin (browser-based MCP clients)', async () => {
    const t = await createTestApp();
    const response = await t.request('/.well-known/oauth-protected-resource/mcp', { headers: { Origin: 'https://inspector.example' } });
    assert.equal(response.headers.get('Access-Control-Allow-Origin'), 'https://inspector.example');
  });
});
