/**
 * One client flow, driven by a profile (profiles.ts): what an MCP client does on the wire from the URL
 * a person pastes to a tool call. The OAuth side is oauth4webapi (a real, strict client library);
 * the pages are filled in as a person would (authorizeWithForms); the MCP side is the official SDK v2
 * client. Every step is real HTTP over loopback.
 *
 *   401 challenge → PRM → AS metadata → registration (DCR or metadata document) → /authorize with
 *   PKCE → login and consent → callback (with or without an `iss` check) → code for tokens → tools/list
 *   → refresh → tools/list with the refreshed token.
 */
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { clientDocument } from '../cimd/document-server.ts';
import { keyPair } from '../client-auth/helpers.ts';
import { E2E_USER } from '../helpers/e2e.ts';
import { authorizeWithForms, cookieJar, type CookieJar } from '../helpers/oauth-flow.ts';
import { initializeMessage, mcpHeaders } from '../mcp/wire.ts';
import { parseChallenge } from '../resource/fixtures.ts';
import { ephemeralPort, type ClientsHarness } from './harness.ts';
import type { ClientProfile } from './profiles.ts';

/** The test's authorization server is http on 127.0.0.1; oauth4webapi insists on https otherwise. */
const loopbackHttp = { [oauth.allowInsecureRequests]: true } as const;

export interface Discovery {
  /** The parameters of the 401's `WWW-Authenticate: Bearer` challenge. */
  challenge: Record<string, string>;
  prm: { resource: string; authorization_servers: string[]; scopes_supported?: string[] };
  as: oauth.AuthorizationServer;
}

/**
 * Steps 1–3: unauthenticated request, protected resource metadata, authorization server metadata.
 * `connectUrl`: the URL the person pasted, when it is not the one the server was configured with.
 */
export async function discover(h: ClientsHarness, profile: ClientProfile, connectUrl = h.mcpUrl): Promise<Discovery> {
  const unauthenticated = await fetch(connectUrl, { method: 'POST', headers: mcpHeaders(), body: JSON.stringify(initializeMessage()) });
  await unauthenticated.body?.cancel();
  assert.equal(unauthenticated.status, 401);
  const challenge = parseChallenge(unauthenticated.headers.get('WWW-Authenticate')).params;
  const metadataUrl = challenge['resource_metadata'];
  assert.ok(metadataUrl, 'the challenge names the protected resource metadata');
  const prm = (await (await fetch(metadataUrl)).json()) as Discovery['prm'];
  if (profile.requiresExactPrmResource && prm.resource !== connectUrl) {
    throw new Error(`${profile.name} refuses the server: PRM resource ${prm.resource} is not the URL it connected to, ${connectUrl}`);
  }
  const issuer = new URL(prm.authorization_servers[0]!);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...loopbackHttp }));
  return { challenge, prm, as };
}

export interface RegisteredClient {
  client: oauth.Client;
  auth: oauth.ClientAuth;
  /** The port `{port}` stood for at registration. */
  port: number;
  redirectUris: string[];
}

/** Step 4: dynamic registration, or publishing the client's metadata document (its URL is the client_id). */
export async function register(h: ClientsHarness, profile: ClientProfile, as: oauth.AuthorizationServer): Promise<RegisteredClient> {
  const port = await ephemeralPort();
  const redirectUris = profile.redirectUris.map((uri) => uri.replace('{port}', String(port)));
  const metadata = {
    client_name: profile.name,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: profile.registration.authMethod,
  };
  const registration = profile.registration;
  if (registration.kind === 'dcr') {
    const client = await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, metadata, loopbackHttp));
    const auth = registration.authMethod === 'client_secret_post' ? oauth.ClientSecretPost(String(client.client_secret)) : oauth.None();
    return { client, auth, port, redirectUris };
  }
  const key = registration.authMethod === 'private_key_jwt' ? await keyPair('ES256') : undefined;
  let keys = {};
  if (key && registration.keys === 'jwks_uri') keys = { jwks_uri: h.documents.serve(`${registration.path}.jwks`, { body: { keys: [key.publicJwk] } }) };
  else if (key) keys = { jwks: { keys: [key.publicJwk] } };
  const clientId = h.documents.serve(registration.path, (url) => ({ body: clientDocument(url, { ...metadata, ...keys }), headers: { 'cache-control': 'max-age=300' } }));
  const client: oauth.Client = { client_id: clientId, token_endpoint_auth_method: registration.authMethod };
  return { client, auth: key ? oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }) : oauth.None(), port, redirectUris };
}

/** What the profile asks for: its scope source, plus its fixed extra scopes (whether advertised or not). */
export function requestedScope(profile: ClientProfile, d: Discovery): string {
  const base =
    profile.scopeSource === 'challenge' ? (d.challenge['scope']?.split(' ') ?? d.prm.scopes_supported ?? [])
    : profile.scopeSource === 'as-metadata' ? (d.as.scopes_supported ?? [])
    : [];
  return [...new Set([...base, ...profile.extraScopes])].join(' ');
}

export interface Authorization {
  authorizationUrl: URL;
  /** Where the browser was finally sent, as received (with `iss` if the server sent it). */
  callback: URL;
  redirectUri: string;
  /** The callback parameters the client goes on with (validated by oauth4webapi). */
  params: URLSearchParams;
  verifier: string;
}

/** Steps 5–7: the authorization request, the person's login and consent, the callback. */
export async function authorize(
  profile: ClientProfile,
  d: Discovery,
  registered: RegisteredClient,
  options: { requestRedirectUri?: string; jar?: CookieJar } = {},
): Promise<Authorization> {
  const template = options.requestRedirectUri ?? profile.requestRedirectUri;
  // A URI fixed at registration keeps its port; a port-less or "any port" one gets a fresh one per run.
  const port = profile.redirectUris.includes(template) ? registered.port : await ephemeralPort();
  const redirectUri = template.replace('{port}', String(port));
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const authorizationUrl = new URL(d.as.authorization_endpoint!);
  const query: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: registered.client.client_id,
    redirect_uri: redirectUri,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    scope: requestedScope(profile, d),
    resource: profile.sendsResource ? d.prm.resource : undefined,
    prompt: profile.prompt,
  };
  for (const [name, value] of Object.entries(query)) if (value !== undefined) authorizationUrl.searchParams.set(name, value);

  const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl, ...E2E_USER, jar: options.jar ?? cookieJar() });
  assert.equal(`${callback.protocol}//${callback.host}${callback.pathname}`, redirectUri.replace(/\?.*$/, ''), 'the browser comes back to the redirect URI the client asked for');
  let params: URLSearchParams;
  if (profile.checksIss) {
    params = oauth.validateAuthResponse(d.as, registered.client, callback, state);
  } else {
    // The client drops `iss` before it looks at the response, so it cannot check it either.
    const dropped = new URL(callback);
    dropped.searchParams.delete('iss');
    params = oauth.validateAuthResponse({ ...d.as, authorization_response_iss_parameter_supported: false }, registered.client, dropped, state);
  }
  return { authorizationUrl, callback, redirectUri, params, verifier };
}

function tokenOptions(profile: ClientProfile, d: Discovery): oauth.TokenEndpointRequestOptions {
  return { ...loopbackHttp, ...(profile.sendsResource ? { additionalParameters: { resource: d.prm.resource } } : {}) };
}

/** Step 8: the code for tokens, authenticated as the profile authenticates. */
export async function redeem(h: ClientsHarness, profile: ClientProfile, d: Discovery, registered: RegisteredClient, a: Authorization): Promise<oauth.TokenEndpointResponse> {
  // The server runs a manual clock; keep it at real time for the client's signed assertions.
  h.real.clock.set(Date.now());
  const response = await oauth.authorizationCodeGrantRequest(d.as, registered.client, registered.auth, a.params, a.redirectUri, a.verifier, tokenOptions(profile, d));
  return oauth.processAuthorizationCodeResponse(d.as, registered.client, response);
}

/** The refresh-token grant, as the profile sends it. */
export async function refresh(h: ClientsHarness, profile: ClientProfile, d: Discovery, registered: RegisteredClient, refreshToken: string): Promise<oauth.TokenEndpointResponse> {
  h.real.clock.set(Date.now());
  const response = await oauth.refreshTokenGrantRequest(d.as, registered.client, registered.auth, refreshToken, tokenOptions(profile, d));
  return oauth.processRefreshTokenResponse(d.as, registered.client, response);
}

export interface McpUse {
  tools: string[];
  /** What the built-in `whoami` tool says about the caller. */
  whoami: { username: string | null; clientId: string };
}

/** tools/list and a tools/call with the official SDK v2 client, the token as a bearer header. */
export async function useMcp(mcpUrl: string, accessToken: string): Promise<McpUse> {
  const client = new Client({ name: 'client-matrix', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${accessToken}` } } }));
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const whoami = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as McpUse['whoami'];
    return { tools, whoami };
  } finally {
    await client.close();
  }
}

export interface ClientRun {
  discovery: Discovery;
  registered: RegisteredClient;
  authorization: Authorization;
  tokens: oauth.TokenEndpointResponse;
  firstUse: McpUse;
  refreshed: oauth.TokenEndpointResponse;
  refreshedUse: McpUse;
}

/** The whole flow for one profile. `registered` reuses a client (a second run of the same install). */
export async function runClientFlow(
  h: ClientsHarness,
  profile: ClientProfile,
  options: { requestRedirectUri?: string; registered?: RegisteredClient; discovery?: Discovery } = {},
): Promise<ClientRun> {
  const discovery = options.discovery ?? (await discover(h, profile));
  const registered = options.registered ?? (await register(h, profile, discovery.as));
  const authorization = await authorize(profile, discovery, registered, options);
  const tokens = await redeem(h, profile, discovery, registered, authorization);
  const firstUse = await useMcp(h.mcpUrl, tokens.access_token);
  assert.ok(tokens.refresh_token, `${profile.name} got a refresh token`);
  const refreshed = await refresh(h, profile, discovery, registered, tokens.refresh_token);
  const refreshedUse = await useMcp(h.mcpUrl, refreshed.access_token);
  return { discovery, registered, authorization, tokens, firstUse, refreshed, refreshedUse };
}

/** What every client must end with: tokens for this MCP server, refreshed, and tools it can use. */
export function assertCompleted(h: ClientsHarness, run: ClientRun): void {
  for (const tokens of [run.tokens, run.refreshed]) {
    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.aud, h.mcpUrl, 'RFC 8707: the token is for the MCP server');
    assert.equal(claims['client_id'], run.registered.client.client_id);
  }
  assert.notEqual(run.refreshed.refresh_token, run.tokens.refresh_token, 'the refresh token rotates');
  for (const use of [run.firstUse, run.refreshedUse]) {
    assert.ok(use.tools.includes('list_tasks') && use.tools.includes('create_task'), `tools/list: ${use.tools.join(' ')}`);
    assert.equal(use.whoami.username, E2E_USER.username);
    assert.equal(use.whoami.clientId, run.registered.client.client_id);
  }
}
