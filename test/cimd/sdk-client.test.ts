import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { createTestCertificate, type TestCertificate } from '../fixtures/stytch/https.ts';
import { E2E_USER, InMemoryOAuthProvider, startRealServer, type RealServer } from '../helpers/e2e.ts';
import { authorizeWithForms, cookieJar } from '../helpers/oauth-flow.ts';
import { clientDocument, fetchTrusting, startDocumentServer, type DocumentServer } from './document-server.ts';

/**
 * The official MCP SDK v2 client with `clientMetadataUrl`: it sees
 * `client_id_metadata_document_supported` and uses its document URL as client_id instead of
 * registering (AS-33: CIMD before DCR). The SDK accepts only https document URLs, so the document is
 * served over https from 127.0.0.1 with a certificate made at test time; the server's outbound fetch
 * trusts that certificate (and the private-network setting lets it reach 127.0.0.1).
 */
const DOCUMENT_PATH = '/oauth/client-metadata.json';

describe('AS-06 / AS-33 / CL-09: the SDK v2 client identifies itself by a client ID metadata document, end to end', () => {
  let certificate: TestCertificate;
  let docs: DocumentServer;
  let real: RealServer;
  let trusting: ReturnType<typeof fetchTrusting>;
  let provider: InMemoryOAuthProvider;
  let client: Client | undefined;
  const exchanges: string[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const response = await fetch(request);
    exchanges.push(`${request.method} ${new URL(request.url).pathname} ${response.status}`);
    return response;
  };
  const transport = () => new StreamableHTTPClientTransport(new URL(`${real.origin}/mcp`), { authProvider: provider, fetch: recordingFetch });

  before(async () => {
    certificate = await createTestCertificate();
    docs = await startDocumentServer(certificate);
    trusting = fetchTrusting(certificate);
    real = await startRealServer({ dangerouslyAllowPrivateNetworkFetches: true }, { fetch: trusting.fetch });
    provider = new InMemoryOAuthProvider({ clientMetadataUrl: docs.origin + DOCUMENT_PATH });
    docs.serve(DOCUMENT_PATH, (url) => ({
      body: clientDocument(url, { client_name: 'CIMD E2E client', redirect_uris: [provider.redirectUrl] }),
      headers: { 'cache-control': 'max-age=300' },
    }));
  });
  after(async () => {
    await client?.close().catch(() => {});
    await real?.close();
    await docs?.close();
    await trusting?.close();
    await certificate?.dispose();
  });

  it('uses the document URL as client_id without registering, signs in, consents and calls a tool', async () => {
    client = new Client({ name: 'cimd-e2e', version: '1.0.0' });
    await assert.rejects(client.connect(transport()), (e: unknown) => e instanceof UnauthorizedError);
    assert.ok(!exchanges.some((e) => e.startsWith('POST /register')), `no dynamic registration:\n${exchanges.join('\n')}`);
    const authorizationUrl = provider.authorizationUrls.at(-1)!;
    assert.equal(authorizationUrl.searchParams.get('client_id'), docs.origin + DOCUMENT_PATH);

    let consent = '';
    const callback = await authorizeWithForms({
      fetch: (u, i) => fetch(u, i),
      authorizationUrl,
      ...E2E_USER,
      jar: cookieJar(),
      onPage: (page) => {
        if (page.url.pathname === '/consent') consent = page.html;
      },
    });
    assert.equal(callback.searchParams.get('error'), null, callback.searchParams.get('error_description') ?? '');
    const host = new URL(docs.origin).host;
    // SEC-51 / AS-18: the client_id host is shown as the one fact we can vouch for; AS-17: the redirect host.
    assert.ok(consent.includes(`<code>${host}</code> <span class="small">(verified domain)</span>`), 'the consent page shows the document host as verified');
    assert.match(consent, /<code id="redirect-host">http:\/\/127\.0\.0\.1:53682<\/code>/);
    assert.match(consent, /CIMD E2E client/);

    const finishing = transport();
    await finishing.finishAuth(callback.searchParams);
    assert.ok(provider.tokenSet?.access_token);
    client = new Client({ name: 'cimd-e2e', version: '1.0.0' });
    await client.connect(transport());
    const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as { username: string };
    assert.equal(me.username, E2E_USER.username);
    assert.equal(docs.hits(DOCUMENT_PATH), 1, 'fetched once, then served from the cache for the token request');
  });
});
