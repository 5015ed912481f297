import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { classifyRedirectUri } from '../../src/authorization/clients/redirect-uris.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { PUBLIC_CLIENT, register } from './helpers.ts';

/**
 * OAuth 2.1 §2.3 / §2.3.1 and RFC 8252 §7.1 (SEC-04): a redirect URI is absolute, has no fragment,
 * keeps the query it was registered with, and a native app's private-use scheme is its own.
 */

type Json = Record<string, unknown>;

describe('redirect URI form (SEC-04)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ registration: { enabled: true, perMinute: 10_000 } });
  });
  after(() => t.close());

  async function registration(redirectUris: string[], extra: Json = {}): Promise<{ status: number; json: Json }> {
    const res = await register(t, { ...PUBLIC_CLIENT, redirect_uris: redirectUris, ...extra });
    return { status: res.status, json: (await res.json()) as Json };
  }

  it('SEC-04 a redirect URI must be absolute: relative, scheme-relative and scheme-less ones are refused at registration', async () => {
    for (const uri of ['/callback', '//app.example/cb', 'app.example/cb', 'callback']) {
      const { status, json } = await registration([uri]);
      assert.equal(status, 400, uri);
      assert.equal(json['error'], 'invalid_redirect_uri', uri);
      assert.ok('error' in classifyRedirectUri(uri), uri);
    }
  });

  it('SEC-04 a redirect URI must have no fragment, not even an empty one', async () => {
    for (const uri of ['https://app.example/cb#frag', 'https://app.example/cb#', 'http://127.0.0.1:4000/cb#x', 'com.example.app:/cb#x']) {
      const { status, json } = await registration([uri]);
      assert.equal(status, 400, uri);
      assert.equal(json['error'], 'invalid_redirect_uri', uri);
    }
  });

  it('SEC-04 a query in a redirect URI is kept: registered and echoed byte for byte', async () => {
    const uri = 'https://app.example/cb?tenant=a%20b&x=1';
    const { status, json } = await registration([uri], { application_type: 'web' });
    assert.equal(status, 201, JSON.stringify(json));
    assert.deepEqual(json['redirect_uris'], [uri]);
    assert.deepEqual((await t.storage.clients.get(String(json['client_id'])))?.redirectUris, [uri]);
  });

  it('SEC-04 private-use schemes: reverse-domain ones are accepted, and so by design are the dotless ones MCP clients use (cursor:, vscode:); web and script schemes are refused', async () => {
    for (const uri of ['com.example.notes:/oauth/callback', 'cursor://anysphere.cursor-retrieval/oauth/callback', 'vscode://vscode.github-authentication/did-authenticate']) {
      const { status, json } = await registration([uri], { application_type: 'native' });
      assert.equal(status, 201, `${uri}: ${JSON.stringify(json)}`);
      assert.deepEqual(classifyRedirectUri(uri), { kind: 'private-use' });
    }
    for (const uri of ['javascript:alert(1)', 'data:text/html,hi', 'file:///etc/passwd', 'blob:https://app.example/x', 'ws://127.0.0.1/cb', 'ftp://app.example/cb']) {
      const { status, json } = await registration([uri], { application_type: 'native' });
      assert.equal(status, 400, uri);
      assert.equal(json['error'], 'invalid_redirect_uri', uri);
    }
  });
});
