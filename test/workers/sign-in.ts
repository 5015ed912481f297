import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport, UnauthorizedError, type DpopSession } from '@modelcontextprotocol/client';
import { InMemoryOAuthProvider } from '../helpers/e2e.ts';
import { authorizeWithForms, cookieJar } from '../helpers/oauth-flow.ts';
import type { WorkerServer } from './harness.ts';

export type Era = '2025-era' | '2026-07-28';

/** An official SDK v2 client of the Worker's MCP endpoint, of one protocol era. */
export function mcpClient(worker: Pick<WorkerServer, 'origin'>, provider: InMemoryOAuthProvider, era: Era, fetch: typeof globalThis.fetch = globalThis.fetch) {
  const transport = new StreamableHTTPClientTransport(new URL(`${worker.origin}/mcp`), { authProvider: provider, fetch });
  const client = new Client({ name: 'portcullis-workers-test', version: '1.0.0' }, era === '2026-07-28' ? { versionNegotiation: { mode: 'auto' } } : {});
  return { client, transport };
}

/**
 * The whole OAuth flow as an SDK client does it (401, discovery, registration, the real login and
 * consent pages, the code exchange): returns the client's provider, holding its tokens. `clientName`:
 * register as another client (identical registrations share one client_id); `dpop`: a DPoP client,
 * whose code exchange and MCP requests the SDK makes with proofs by this session; `fetch`: the SDK's.
 */
export async function signInWithSdk(
  worker: Pick<WorkerServer, 'origin'>,
  user: { username: string; password: string },
  options: { clientName?: string; dpop?: DpopSession; fetch?: typeof globalThis.fetch } = {},
): Promise<InMemoryOAuthProvider> {
  const { fetch: sdkFetch, ...registration } = options;
  const provider = new InMemoryOAuthProvider(registration);
  const { client, transport } = mcpClient(worker, provider, '2026-07-28', sdkFetch);
  await assert.rejects(client.connect(transport), (e: unknown) => e instanceof UnauthorizedError);
  const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl: provider.authorizationUrls.at(-1)!, ...user, jar: cookieJar() });
  assert.equal(callback.searchParams.get('error'), null, String(callback.searchParams.get('error_description')));
  await transport.finishAuth(callback.searchParams);
  assert.ok(provider.tokenSet?.access_token);
  return provider;
}
