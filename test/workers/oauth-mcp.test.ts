import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryOAuthProvider } from '../helpers/e2e.ts';
import { authorizeWithForms, cookieJar, type HtmlForm } from '../helpers/oauth-flow.ts';
import { startWorker, type WorkerServer } from './harness.ts';

/**
 * End to end on Cloudflare Workers: the Worker bundle under workerd (Miniflare) on D1, reached over a
 * real socket by the official MCP SDK clients, with the login and consent pages submitted as a person
 * would. The account is the first administrator, created by the Worker from its secret.
 */

const ADMIN = { username: 'admin', password: 'a long admin password for workers' } as const;
/** Short, so the test can wait it out; long enough for a retry to arrive within it on a busy machine. */
const GRACE_SECONDS = 3;

interface Exchange {
  method: string;
  path: string;
  status: number;
}

/** The client's fetch: real sockets, every exchange recorded. */
function recordingFetch(exchanges: Exchange[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const response = await fetch(request);
    exchanges.push({ method: request.method, path: new URL(request.url).pathname, status: response.status });
    return response;
  };
}

/** Where the access token's signature was: a token this server no longer accepts, as an expired one (401 invalid_token, the same answer). */
const unacceptable = (token: string): string => `${token.slice(0, token.lastIndexOf('.') + 1)}${'A'.repeat(86)}`;

for (const era of ['2025-era', '2026-07-28'] as const) {
  describe(`Workers E2E (${era}): the official MCP SDK client registers, signs in on the real pages, calls tools, steps up and refreshes`, () => {
    let worker: WorkerServer;
    const provider = new InMemoryOAuthProvider();
    const exchanges: Exchange[] = [];
    const pages: { url: URL; form: HtmlForm; html: string }[] = [];
    const jar = cookieJar();
    let client: Client;
    let transport: StreamableHTTPClientTransport;

    const newClient = () => {
      transport = new StreamableHTTPClientTransport(new URL(`${worker.origin}/mcp`), { authProvider: provider, fetch: recordingFetch(exchanges) });
      client = new Client({ name: 'portcullis-workers-e2e', version: '1.0.0' }, era === '2026-07-28' ? { versionNegotiation: { mode: 'auto' } } : {});
    };
    const completeAuthorization = async (): Promise<URLSearchParams> => {
      const authorizationUrl = provider.authorizationUrls.at(-1)!;
      const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl, ...ADMIN, jar, onPage: (p) => pages.push({ url: new URL(p.url), form: p.form, html: p.html }) });
      assert.equal(callback.searchParams.get('error'), null, `authorization failed: ${callback.searchParams.get('error_description')}`);
      assert.equal(callback.searchParams.get('state'), provider.expectedState);
      assert.equal(callback.searchParams.get('iss'), worker.origin, 'RFC 9207 iss names the Worker');
      return callback.searchParams;
    };

    before(async () => {
      worker = await startWorker({ vars: { PORTCULLIS_INITIAL_ADMIN_PASSWORD: ADMIN.password, PORTCULLIS_REFRESH_GRACE_PERIOD: String(GRACE_SECONDS), PORTCULLIS_DEFAULT_SCOPES: 'tasks:read' } });
    });
    after(async () => {
      await client?.close().catch(() => {});
      await worker.close();
    });

    it('RS-03b: 401 → Protected Resource Metadata → AS metadata → dynamic registration → authorization URL (PKCE S256, resource)', async () => {
      newClient();
      await assert.rejects(client.connect(transport), (e: unknown) => e instanceof UnauthorizedError);
      const seen = exchanges.map((e) => `${e.method} ${e.path} ${e.status}`);
      assert.equal(seen[0], 'POST /mcp 401');
      assert.ok(seen.includes('GET /.well-known/oauth-protected-resource/mcp 200'), seen.join('\n'));
      assert.ok(seen.includes('POST /register 201'), seen.join('\n'));
      const url = provider.authorizationUrls.at(-1)!;
      assert.equal(`${url.origin}${url.pathname}`, `${worker.origin}/authorize`);
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(url.searchParams.get('resource'), `${worker.origin}/mcp`);
    });

    it('the login and consent pages: the first administrator signs in with the password from the secret, and allows the client', async () => {
      await transport.finishAuth(await completeAuthorization());
      const login = pages.find((p) => p.form.inputs.some((i) => i.type === 'password'));
      const consent = pages.find((p) => p.form.buttons.some((b) => b.value === 'allow'));
      assert.ok(login, 'a login page with a password field');
      assert.ok(consent, 'a consent page with an allow button');
      assert.match(consent.html, /Portcullis Workers E2E client|Portcullis E2E client/, 'consent names the client');
      assert.ok(provider.tokenSet?.access_token && provider.tokenSet.refresh_token);
      assert.ok(!worker.logs.join('\n').includes(ADMIN.password), 'the password is in no log line');
      // The pages keep their headers on Workers: no framing, no script, nothing cached.
      const page = await fetch(login.url);
      assert.equal(page.status, 200);
      await page.body?.cancel();
      assert.match(page.headers.get('Content-Security-Policy') ?? '', /frame-ancestors 'none'/);
      assert.match(page.headers.get('Content-Security-Policy') ?? '', /default-src 'none'/);
      assert.ok(worker.logs.some((l) => l.includes('"user.created"')), 'the first administrator was created by the Worker');
    });

    it(`serves tools to the ${era} client (no session on Workers: any isolate can answer)`, async () => {
      newClient();
      await client.connect(transport);
      assert.equal(transport.sessionId, undefined, 'no Mcp-Session-Id on Workers');
      const version = client.getNegotiatedProtocolVersion();
      assert.ok(era === '2026-07-28' ? version === '2026-07-28' : version !== '2026-07-28', `negotiated ${version}`);
      const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as Record<string, unknown>;
      assert.equal(me['username'], ADMIN.username);
      assert.equal(me['clientId'], provider.client?.client_id);
      assert.deepEqual((await client.callTool({ name: 'list_tasks', arguments: {} })).structuredContent, { tasks: [] });
    });

    it('RS-12: a write tool gets 403 insufficient_scope; the client steps up, and tasks are stored in D1', async () => {
      await assert.rejects(client.callTool({ name: 'create_task', arguments: { title: 'Deploy to Workers' } }), (e: unknown) => e instanceof UnauthorizedError);
      assert.ok(exchanges.some((e) => e.path === '/mcp' && e.status === 403));
      await transport.finishAuth(await completeAuthorization());
      const created = await client.callTool({ name: 'create_task', arguments: { title: 'Deploy to Workers' } });
      assert.equal((created.structuredContent as { task: { title: string } }).task.title, 'Deploy to Workers');
      const db = await worker.mf.getD1Database('DB');
      const row = await db.prepare('select title from tasks').first<{ title: string }>();
      assert.equal(row?.title, 'Deploy to Workers');
    });

    it('AS-20: an access token no longer accepted makes the client refresh (the refresh token rotates) and carry on without a new login; reuse after the grace period revokes the grant', async () => {
      const before = { refresh: provider.tokenSet!.refresh_token, urls: provider.authorizationUrls.length };
      provider.tokenSet = { ...provider.tokenSet!, access_token: unacceptable(provider.tokenSet!.access_token) };
      const result = await client.callTool({ name: 'list_tasks', arguments: {} });
      assert.equal((result.structuredContent as { tasks: unknown[] }).tasks.length, 1);
      assert.ok(exchanges.some((e) => e.method === 'POST' && e.path === '/token' && e.status === 200));
      assert.notEqual(provider.tokenSet?.refresh_token, before.refresh, 'rotated');
      assert.equal(provider.authorizationUrls.length, before.urls, 'no new authorization');

      // OAuth 2.1 §4.3.1 on D1: the spent refresh token again is a retry within the grace period (the
      // same successor), and reuse after it, which revokes the grant: its live refresh token goes too.
      const form = (refreshToken: string) =>
        fetch(`${worker.origin}/token`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: provider.client!.client_id }),
        });
      const retry = await form(before.refresh!);
      assert.equal(retry.status, 200, 'a retry within the grace period');
      assert.equal(((await retry.json()) as { refresh_token: string }).refresh_token, provider.tokenSet?.refresh_token, 'the same successor');
      await new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000 + 200));
      const reuse = await form(before.refresh!);
      assert.equal(reuse.status, 400);
      assert.equal(((await reuse.json()) as { error: string }).error, 'invalid_grant');
      const live = await form(provider.tokenSet!.refresh_token!);
      assert.equal(live.status, 400, 'the grant is revoked: its live refresh token is refused too');
      assert.ok(worker.logs.some((l) => l.includes('refresh.reuse_detected')));
    });
  });
}

describe('Workers E2E: the v1 SDK client (mcp-remote, the Inspector) against the Worker', () => {
  let worker: WorkerServer;
  const provider = new InMemoryOAuthProvider();
  const jar = cookieJar();

  before(async () => {
    worker = await startWorker({ vars: { PORTCULLIS_INITIAL_ADMIN_PASSWORD: ADMIN.password } });
  });
  after(() => worker.close());

  it('signs in and calls tools over 2025-era Streamable HTTP, served without a session', async () => {
    const connect = async () => {
      const transport = new V1Transport(new URL(`${worker.origin}/mcp`), { authProvider: provider });
      const client = new V1Client({ name: 'v1-workers', version: '1.0.0' });
      await client.connect(transport);
      return { client, transport };
    };
    await assert.rejects(connect());
    const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl: provider.authorizationUrls.at(-1)!, ...ADMIN, jar });
    const first = new V1Transport(new URL(`${worker.origin}/mcp`), { authProvider: provider });
    await first.finishAuth(callback.searchParams.get('code')!);
    const { client, transport } = await connect();
    try {
      assert.equal(transport.sessionId, undefined);
      const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as { username: string };
      assert.equal(me.username, ADMIN.username);
    } finally {
      await client.close();
    }
  });
});
