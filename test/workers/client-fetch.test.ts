import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { clientDocument } from '../cimd/document-server.ts';
import { InMemoryOAuthProvider } from '../helpers/e2e.ts';
import { authorizeWithForms, cookieJar } from '../helpers/oauth-flow.ts';
import { startWorker, type WorkerServer } from './harness.ts';

/**
 * Client ID metadata documents fetched by the Worker (AS-06, BP-08). On Workers the URL's host is not
 * resolved here and no address is pinned: the platform's fetch, which has no private network, does
 * the rest. Everything else is the Node policy: https only, the size and time limits, JSON only, and
 * an address written in the URL still has to be public. The documents are served by the test through
 * the Worker's outbound fetch; no private-network switch is set.
 */

const ADMIN = { username: 'admin', password: 'client fetch admin password' } as const;
const DOCUMENT = 'https://notes.example/oauth/client-metadata.json';
const HUGE = 'https://huge.example/client.json';

describe('Workers: client URLs fetched through the platform (CIMD)', () => {
  let worker: WorkerServer;
  const provider = new InMemoryOAuthProvider({ clientMetadataUrl: DOCUMENT });

  before(async () => {
    worker = await startWorker({
      vars: { PORTCULLIS_INITIAL_ADMIN_PASSWORD: ADMIN.password },
      outbound: (request) => {
        if (request.url === DOCUMENT) return Response.json(clientDocument(DOCUMENT, { client_name: 'Notes on Workers', redirect_uris: [provider.redirectUrl] }), { headers: { 'Cache-Control': 'max-age=300' } });
        if (request.url === HUGE) return Response.json(clientDocument(HUGE, { client_name: 'x'.repeat(6000), redirect_uris: [provider.redirectUrl] }));
        return undefined;
      },
    });
  });
  after(() => worker.close());

  it('AS-06/AS-33 the SDK client names its document URL as client_id; the Worker fetches it and the flow completes', async () => {
    const transport = () => new StreamableHTTPClientTransport(new URL(`${worker.origin}/mcp`), { authProvider: provider });
    await assert.rejects(new Client({ name: 'cimd-workers', version: '1.0.0' }).connect(transport()), (e: unknown) => e instanceof UnauthorizedError);
    const authorizationUrl = provider.authorizationUrls.at(-1)!;
    assert.equal(authorizationUrl.searchParams.get('client_id'), DOCUMENT);
    let consent = '';
    const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl, ...ADMIN, jar: cookieJar(), onPage: (p) => void (p.url.pathname === '/consent' && (consent = p.html)) });
    assert.equal(callback.searchParams.get('error'), null, callback.searchParams.get('error_description') ?? '');
    assert.match(consent, /Notes on Workers/);
    await transport().finishAuth(callback.searchParams);
    const client = new Client({ name: 'cimd-workers', version: '1.0.0' });
    await client.connect(transport());
    assert.equal(((await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as { clientId: string }).clientId, DOCUMENT);
    await client.close();
    assert.ok(worker.outboundRequests.includes(`GET ${DOCUMENT}`), 'the Worker fetched the document itself');
  });

  it('BP-08 an address written in the URL must still be public: a private one is refused before any fetch', async () => {
    const before = worker.outboundRequests.length;
    const privateDocument = 'https://10.0.0.5/client.json';
    const url = new URL(`${worker.origin}/authorize`);
    for (const [name, value] of Object.entries({ response_type: 'code', client_id: privateDocument, redirect_uri: provider.redirectUrl, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) {
      url.searchParams.set(name, value);
    }
    const answer = await fetch(url, { redirect: 'manual' });
    assert.equal(answer.status, 400);
    assert.deepEqual(worker.outboundRequests.slice(before), [], 'nothing was fetched');
  });

  it('the size limit holds on Workers: a document over 5 KiB is refused', async () => {
    const url = new URL(`${worker.origin}/authorize`);
    for (const [name, value] of Object.entries({ response_type: 'code', client_id: HUGE, redirect_uri: provider.redirectUrl, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) {
      url.searchParams.set(name, value);
    }
    const answer = await fetch(url, { redirect: 'manual' });
    assert.equal(answer.status, 400);
    assert.ok(worker.outboundRequests.includes(`GET ${HUGE}`), 'it was fetched, and refused for its size');
    assert.match(await answer.text(), /larger than 5120 bytes/);
  });
});
