import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { createStytchOAuthLoginFixture, type StytchOAuthLoginFixture } from '../fixtures/stytch/oauth-login.ts';
import { createStytchProject } from '../fixtures/stytch/project.ts';
import { InMemoryOAuthProvider } from '../helpers/e2e.ts';
import { authorizeWithForms, browserFetch, cookieJar, formData, parseForms, type FetchLike } from '../helpers/oauth-flow.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { freePort, startWorker, type WorkerServer } from './harness.ts';

/**
 * Seed 2's login on seed 2's platform: the Worker with `IDENTITY_PROVIDER=stytch` and the STYTCH_*
 * variables, against the Stytch OAuth-login fixture (Stytch's documented API, in this process). The
 * browser talks to the Worker over a socket and to "Stytch" in-process; the Worker's own call to
 * Stytch (`POST /v1/oauth/authenticate`, with the project secret) goes out through its outbound fetch.
 */
describe('Workers: Stytch OAuth login (seed 2) against the Stytch fixture', () => {
  let worker: WorkerServer;
  let stytch: StytchOAuthLoginFixture;

  before(async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const project = createStytchProject('https://project.customers.stytch.dev', 'test');
    stytch = await createStytchOAuthLoginFixture({ project, clock: new ManualClock(Date.now()), redirectUrls: [`${origin}/callback?tx={}`] });
    worker = await startWorker({
      port,
      vars: { IDENTITY_PROVIDER: 'stytch', STYTCH_PROJECT_ID: project.projectId, STYTCH_SECRET: project.secret, STYTCH_PUBLIC_TOKEN: stytch.publicToken },
      outbound: (request) => (new URL(request.url).hostname.endsWith('stytch.com') ? stytch.fetch(request) : undefined),
    });
  });
  after(() => worker.close());

  it('seed 2 a full flow: consent → Stytch start → provider → /callback?tx → oauth/authenticate from the Worker → tokens → MCP', async () => {
    const provider = new InMemoryOAuthProvider();
    const transport = new StreamableHTTPClientTransport(new URL(`${worker.origin}/mcp`), { authProvider: provider });
    const client = new Client({ name: 'stytch-on-workers', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await assert.rejects(client.connect(transport), (e: unknown) => e instanceof UnauthorizedError);

    const jar = cookieJar();
    // Our consent page first (no password: users sign in at Stytch), then off to Stytch.
    const toStytch = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl: provider.authorizationUrls.at(-1)!, username: '', password: '', jar });
    assert.equal(toStytch.origin + toStytch.pathname, 'https://test.stytch.com/v1/public/oauth/google/start');
    assert.equal(toStytch.searchParams.get('public_token'), stytch.publicToken);
    assert.ok(!toStytch.href.includes(stytch.project.secret), 'the project secret never reaches the browser');

    const callback = await signInAtStytch(browserFetch((u, i) => stytch.fetch(u, i), jar), toStytch, 'carol@example.com', worker.origin);
    assert.equal(callback.origin + callback.pathname, `${worker.origin}/callback`);
    const answer = await browserFetch((u, i) => fetch(u, i), jar)(callback);
    assert.equal(answer.status, 303, `the callback redirects to the client (got ${answer.status})`);
    const back = new URL(answer.headers.get('Location')!);
    assert.equal(back.origin + back.pathname, provider.redirectUrl);
    assert.equal(back.searchParams.get('state'), provider.expectedState);

    await transport.finishAuth(back.searchParams);
    const signedIn = new Client({ name: 'stytch-on-workers', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await signedIn.connect(new StreamableHTTPClientTransport(new URL(`${worker.origin}/mcp`), { authProvider: provider }));
    const me = (await signedIn.callTool({ name: 'whoami', arguments: {} })).structuredContent as { username: string };
    assert.equal(me.username, 'carol@example.com');
    await signedIn.close();

    // The Worker itself called Stytch's authenticate endpoint (with the secret, which it never logged).
    assert.ok(worker.outboundRequests.includes('POST https://test.stytch.com/v1/oauth/authenticate'), worker.outboundRequests.join('\n'));
    assert.ok(!worker.logs.join('\n').includes(stytch.project.secret));
  });

  it('seed 2 §2.7(9) a Stytch token is single use on D1 too: the same callback twice yields one code', async () => {
    const provider = new InMemoryOAuthProvider();
    const transport = new StreamableHTTPClientTransport(new URL(`${worker.origin}/mcp`), { authProvider: provider });
    await assert.rejects(new Client({ name: 'replay', version: '1.0.0' }).connect(transport));
    const jar = cookieJar();
    const toStytch = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl: provider.authorizationUrls.at(-1)!, username: '', password: '', jar });
    const callback = await signInAtStytch(browserFetch((u, i) => stytch.fetch(u, i), jar), toStytch, 'erin@example.com', worker.origin);
    const browser = browserFetch((u, i) => fetch(u, i), jar);
    assert.equal((await browser(callback)).status, 303);
    const replay = await browser(callback);
    assert.equal(replay.status, 400);
    assert.equal(replay.headers.get('Location'), null);
  });
});

/** The fixture's OAuth provider page ("Google": one e-mail field), until the browser is sent back to `ours`. */
async function signInAtStytch(send: FetchLike, start: URL, email: string, ours: string): Promise<URL> {
  let current = start;
  for (let step = 0; step < 6; step++) {
    const response = await send(current);
    const location = response.headers.get('Location');
    if (location) {
      current = new URL(location, current);
      if (current.origin === ours) return current;
      continue;
    }
    const html = await response.text();
    const form = parseForms(html, current)[0];
    assert.ok(form, `a form at ${current.pathname} (${response.status})`);
    const submitted = await send(form.action, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: formData(form, { email }).toString() });
    current = new URL(submitted.headers.get('Location') ?? '', form.action);
    if (current.origin === ours) return current;
  }
  throw new Error('the Stytch login did not come back');
}
