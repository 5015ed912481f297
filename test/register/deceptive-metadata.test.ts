import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { classifyRedirectUri } from '../../src/authorization/clients/redirect-uris.ts';
import { MAX_INLINE_JWKS_BYTES, MAX_INLINE_JWKS_KEYS } from '../../src/authorization/clients/register-client.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { runCli, tempDatabase } from '../cli/helpers.ts';
import { createPkcePair, authorizationRequestUrl, decodeEntities } from '../helpers/oauth-flow.ts';
import { clientDocument, startDocumentServer, type DocumentServer } from '../cimd/document-server.ts';
import { PUBLIC_CLIENT, register } from './helpers.ts';

type Json = Record<string, unknown>;

/**
 * Registration metadata that could make the consent page or the redirect lie (HARD-3, HARD-5,
 * HARD-11): one validator for DCR, client ID metadata documents and `portcullis clients add`.
 */
describe('HARD-3 HARD-5 HARD-11 deceptive registration metadata', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ registration: { enabled: true, perMinute: 10_000 } });
  });
  after(() => t.close());

  async function registration(extra: Json): Promise<{ status: number; json: Json }> {
    const res = await register(t, { ...PUBLIC_CLIENT, ...extra });
    return { status: res.status, json: (await res.json()) as Json };
  }

  for (const [name, uri] of [
    ['CR LF', 'https://app.example/cb\r\nSet-Cookie: x=1'],
    ['a TAB', 'https://app.example/c\tb'],
    ['a LF in the host', 'http://127.0.0.1\n:8765/cb'],
    ['a space', 'https://app.example/c b'],
    ['a non-ASCII character', 'https://app.example/cé'],
    ['a NUL', 'com.example.app:/cb\u0000'],
  ] as const) {
    it(`HARD-3 AS-22 a redirect URI with ${name} (which URL parsing would silently clean) is refused at registration`, async () => {
      const { status, json } = await registration({ redirect_uris: [uri] });
      assert.equal(status, 400);
      assert.equal(json['error'], 'invalid_redirect_uri');
      assert.match(String(json['error_description']), /visible ASCII/);
    });
  }

  it('HARD-3 a redirect URI the URL parser would rewrite is refused, naming its canonical form', async () => {
    for (const [uri, canonical] of [
      ['HTTPS://App.Example/cb', 'https://app.example/cb'],
      ['https://app.example:443/cb', 'https://app.example/cb'],
      ['https://app.example/a/../cb', 'https://app.example/cb'],
      ['http://127.1:8765/cb', 'http://127.0.0.1:8765/cb'],
      ['https://app.example\\cb', 'https://app.example/cb'],
    ] as const) {
      const { status, json } = await registration({ redirect_uris: [uri] });
      assert.equal(status, 400, uri);
      assert.equal(json['error'], 'invalid_redirect_uri', uri);
      assert.ok(String(json['error_description']).includes(`write it as ${canonical}`), `${uri}: ${json['error_description']}`);
    }
    // Canonical forms pass, and a bare origin may leave out its "/" path.
    for (const uri of ['https://app.example/cb?x=1', 'https://app.example', 'http://[::1]:8765/cb', 'cursor://anysphere.cursor-retrieval/oauth/callback']) {
      assert.ok('kind' in classifyRedirectUri(uri), uri);
    }
  });

  it('HARD-5 schemes a browser hands to a website, another browser or a script are refused at registration', async () => {
    const refused = [
      'web+x://claude.ai/cb',
      'ext+x://claude.ai/cb',
      'intent://claude.ai/cb',
      'microsoft-edge://claude.ai/cb',
      'microsoft-edge-https://claude.ai/cb',
      'googlechrome://claude.ai/cb',
      'googlechromes://claude.ai/cb',
      'firefox://open-url?url=https://claude.ai',
      'opera://claude.ai/cb',
      'brave://claude.ai/cb',
      'x-safari-https://claude.ai/cb',
      'chrome-extension://abc/cb',
      'javascript:alert(1)',
      'vbscript:msgbox',
      'about:blank',
      'view-source:https://claude.ai/',
    ];
    for (const uri of refused) {
      const { status, json } = await registration({ redirect_uris: [uri], application_type: 'native' });
      assert.equal(status, 400, uri);
      assert.equal(json['error'], 'invalid_redirect_uri', uri);
    }
    const { status } = await registration({ redirect_uris: ['com.example.notes:/oauth/callback'], application_type: 'native' });
    assert.equal(status, 201, 'an app\'s own private-use scheme is still fine');
  });

  for (const [name, clientName, pattern] of [
    ['a zero-width space', 'Claude\u200B', /U\+200B/],
    ['a zero-width joiner', 'Cla\u200Dude', /U\+200D/],
    ['a left-to-right mark', '\u200EClaude', /U\+200E/],
    ['a right-to-left isolate', 'Claude \u2067evil', /U\+2067/],
    ['a soft hyphen', 'Cl\u00ADaude', /U\+00AD/],
    ['a line separator', 'Claude\u2028Desktop', /U\+2028/],
    ['a private-use character', 'Claude \uE000', /U\+E000/],
    ['Latin mixed with Cyrillic in one word', 'Pаypal', /mix Latin and Cyrillic/],
    ['Latin mixed with Greek in one word', 'Clαude Desktop', /mix Latin and Greek/],
  ] as const) {
    it(`HARD-11 SEC-09 a client_name with ${name} is refused with invalid_client_metadata`, async () => {
      const { status, json } = await registration({ client_name: clientName });
      assert.equal(status, 400);
      assert.equal(json['error'], 'invalid_client_metadata');
      assert.match(String(json['error_description']), /^client_name must not /);
      assert.match(String(json['error_description']), pattern);
    });
  }

  it('HARD-11 names wholly in one non-Latin script, or mixing scripts that do not look alike, are accepted', async () => {
    for (const name of ['Заметки', 'Σημειώσεις', '笔记应用', 'Gmailアプリ', 'Notes – Заметки', 'Claude Desktop 2', 'מחברת']) {
      const { status, json } = await registration({ client_name: name });
      assert.equal(status, 201, `${name}: ${JSON.stringify(json)}`);
      assert.equal(json['client_name'], name);
    }
  });

  it(`HARD-11 an inline jwks with more than ${MAX_INLINE_JWKS_KEYS} keys, or over ${MAX_INLINE_JWKS_BYTES} bytes, is refused`, async () => {
    const key = () => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), use: 'sig' });
    const keyed = (jwks: unknown) => registration({ token_endpoint_auth_method: 'private_key_jwt', redirect_uris: ['https://app.example/cb'], jwks });
    const ok = await keyed({ keys: Array.from({ length: MAX_INLINE_JWKS_KEYS }, key) });
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
    const many = await keyed({ keys: Array.from({ length: MAX_INLINE_JWKS_KEYS + 1 }, key) });
    assert.equal(many.status, 400);
    assert.equal(many.json['error'], 'invalid_client_metadata');
    assert.match(String(many.json['error_description']), /at most 10 keys/);
    const big = await keyed({ keys: [{ ...key(), padding: 'x'.repeat(MAX_INLINE_JWKS_BYTES) }] });
    assert.equal(big.status, 400);
    assert.match(String(big.json['error_description']), /at most 16384 bytes/);
  });
});

describe('HARD-3 HARD-5 HARD-11 the same rules for client ID metadata documents and the CLI', () => {
  let docs: DocumentServer;
  before(async () => {
    docs = await startDocumentServer();
  });
  after(() => docs.close());

  async function refusal(document: (url: string) => Json): Promise<string> {
    const app = await createTestApp({ dangerouslyAllowPrivateNetworkFetches: true }, { fetch: globalThis.fetch });
    const clientId = docs.serve(`/d${Math.random().toString(36).slice(2)}/client.json`, (u) => ({ body: document(u) }));
    const url = authorizationRequestUrl(app.origin, {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'http://127.0.0.1:8765/callback',
      code_challenge: createPkcePair().challenge,
      code_challenge_method: 'S256',
      resource: app.ctx.config.resource,
    });
    const response = await app.request(url.pathname + url.search);
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('Location'), null);
    return decodeEntities((await response.text()).replace(/<[^>]+>/g, ' '));
  }

  it('HARD-11 a metadata document whose client_name has a zero-width character or mixed scripts is refused', async () => {
    assert.match(await refusal((u) => clientDocument(u, { client_name: 'Claude\u200B' })), /client_name must not contain invisible/);
    assert.match(await refusal((u) => clientDocument(u, { client_name: 'Clаude' })), /client_name must not mix Latin and Cyrillic/);
  });

  it('HARD-3 HARD-5 a metadata document with a control character or a browser scheme in a redirect URI is refused', async () => {
    assert.match(await refusal((u) => clientDocument(u, { redirect_uris: ['http://127.0.0.1:8765/callback\r\n'] })), /visible ASCII/);
    assert.match(await refusal((u) => clientDocument(u, { redirect_uris: ['http://127.0.0.1:8765/callback', 'web+x://claude.ai/cb'] })), /web\+x: scheme cannot be a redirect URI/);
  });

  it('HARD-3 HARD-5 HARD-11 portcullis clients add applies the same validator', async () => {
    const db = tempDatabase();
    try {
      const env = { PORTCULLIS_DATABASE: db.database };
      const tab = await runCli(['clients', 'add', '--name', 'Tabbed', '--redirect-uri', 'https://app.example/c\tb'], env);
      assert.equal(tab.code, 1);
      assert.match(tab.stderr, /visible ASCII/);
      const edge = await runCli(['clients', 'add', '--name', 'Edge', '--redirect-uri', 'microsoft-edge://claude.ai/cb'], env);
      assert.equal(edge.code, 1);
      assert.match(edge.stderr, /microsoft-edge: scheme cannot be a redirect URI/);
      const name = await runCli(['clients', 'add', '--name', 'Clаude', '--redirect-uri', 'https://app.example/cb'], env);
      assert.equal(name.code, 1);
      assert.match(name.stderr, /mix Latin and Cyrillic/);
    } finally {
      db.cleanup();
    }
  });
});
