import { createUser } from '../../src/identity/users.ts';
import { systemRandom } from '../../src/util/crypto.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { authorizationRequestUrl, authorizeWithForms, createPkcePair, inProcessFetch } from '../helpers/oauth-flow.ts';

export const PASSWORD = 'correct horse battery staple';
export const REDIRECT = 'http://127.0.0.1:4567/callback';

/** Everything one complete in-process flow produced: the secrets a log must never contain. */
export interface FlowSecrets {
  app: TestApp;
  clientId: string;
  clientSecret: string;
  code: string;
  verifier: string;
  accessToken: string;
  refreshToken: string;
  password: string;
}

/**
 * One full flow through the real endpoints: register a confidential client, sign in and allow on the
 * HTML forms, exchange the code, call the MCP endpoint, refresh, introspect, revoke.
 */
export async function runFullFlow(app?: TestApp): Promise<FlowSecrets> {
  app ??= await createTestApp();
  const fetch = inProcessFetch(app.app);
  await createUser(app.storage, { username: 'alice', password: PASSWORD }, { now: app.clock.now(), random: systemRandom });

  const registered = await fetch(`${app.origin}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_name: 'Flow client', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_post' }),
  });
  const client = (await registered.json()) as { client_id: string; client_secret: string };

  const pkce = createPkcePair();
  const authorizationUrl = authorizationRequestUrl(app.origin, {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: REDIRECT,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    scope: 'tasks:read tasks:write',
    state: 'state-123',
    resource: `${app.origin}/mcp`,
  });
  const callback = await authorizeWithForms({ fetch, authorizationUrl, username: 'alice', password: PASSWORD });
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback.href}`);

  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: client.client_id, client_secret: client.client_secret, ...fields }),
  });
  const tokens = (await (await fetch(`${app.origin}/token`, form({ grant_type: 'authorization_code', code, code_verifier: pkce.verifier, redirect_uri: REDIRECT }))).json()) as {
    access_token: string;
    refresh_token: string;
  };
  await fetch(`${app.origin}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${tokens.access_token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  const refreshed = (await (await fetch(`${app.origin}/token`, form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }))).json()) as { refresh_token: string };
  await fetch(`${app.origin}/introspect`, form({ token: tokens.access_token }));
  await fetch(`${app.origin}/revoke`, form({ token: refreshed.refresh_token }));

  return {
    app,
    clientId: client.client_id,
    clientSecret: client.client_secret,
    code,
    verifier: pkce.verifier,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    password: PASSWORD,
  };
}
