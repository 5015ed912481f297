import assert from 'node:assert/strict';
import { Client, DpopSession, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { E2E_USER, InMemoryOAuthProvider } from '../helpers/e2e.ts';
import { authorizeWithForms } from '../helpers/oauth-flow.ts';

/**
 * The official MCP SDK v2 client as a user runs it, for the DPoP end-to-end tests: its own OAuth
 * (discovery, registration, PKCE, token requests with proofs, refresh) and its own DPoP (proofs at
 * the token endpoint and at the MCP endpoint, `DPoP-Nonce` retries). Nothing here signs or retries:
 * this only drives the real login and consent pages and records what went over the wire.
 */

/** One HTTP exchange the SDK made, as the network saw it. */
export interface Exchange {
  method: string;
  /** The URL the client asked for (the public URL). */
  url: URL;
  /** The socket that served it (a load balancer's choice when there are several). */
  servedBy: string;
  status: number;
  authorization: string | null;
  proof: string | null;
  body: string | undefined;
  responseNonce: string | null;
  challenge: string | null;
  error: string | undefined;
}

export interface SdkClientOptions {
  /** The client's DPoP session; absent, a bearer-only client. */
  dpop?: DpopSession;
  /** The socket origin a request to `url` is sent to: a load balancer in front of a public URL. Default: the URL's own origin. */
  route?: (url: URL) => string;
  clientName?: string;
  /** `legacy`: 2025-era sessions (initialize, a GET stream, DELETE at the end). Default: 2026-07-28 requests, no session. */
  era?: 'legacy' | 'modern';
}

export class SdkClient {
  readonly provider: InMemoryOAuthProvider;
  readonly exchanges: Exchange[] = [];
  client: Client | undefined;
  transport: StreamableHTTPClientTransport | undefined;
  readonly mcpUrl: string;
  readonly #route: (url: URL) => string;
  readonly #era: 'legacy' | 'modern';

  constructor(mcpUrl: string, options: SdkClientOptions = {}) {
    this.mcpUrl = mcpUrl;
    this.provider = new InMemoryOAuthProvider({ clientName: options.clientName ?? 'DPoP E2E client', ...(options.dpop ? { dpop: options.dpop } : {}) });
    this.#route = options.route ?? ((url) => url.origin);
    this.#era = options.era ?? 'modern';
  }

  /** The client's fetch: real sockets, through the route, every exchange recorded. */
  readonly fetch: typeof fetch = async (input, init) => {
    assert.ok(!(input instanceof Request), 'the SDK and the form helper call fetch(url, init)');
    const request = new Request(input, init);
    const url = new URL(request.url);
    const servedBy = this.#route(url);
    const body = request.method === 'POST' ? await request.clone().text() : undefined;
    const response = await fetch(new URL(url.pathname + url.search, servedBy), init);
    const error = response.status >= 400 ? await errorCode(response.clone()) : undefined;
    this.exchanges.push({
      method: request.method,
      url,
      servedBy,
      status: response.status,
      authorization: request.headers.get('Authorization'),
      proof: request.headers.get('DPoP'),
      body,
      responseNonce: response.headers.get('DPoP-Nonce'),
      challenge: response.headers.get('WWW-Authenticate'),
      error,
    });
    // @hono/node-server, serving in this same process, replaces the global Response class, and the
    // SDK reads an OAuth error body only from an `instanceof Response`: hand it the class of its realm,
    // as a client in its own process would get.
    return new Response(response.body, response);
  };

  /** A new transport and client; connects. The default era has no session, so any instance serves any request. */
  async connect(): Promise<Client> {
    await this.client?.close().catch(() => {});
    this.transport = new StreamableHTTPClientTransport(new URL(this.mcpUrl), { authProvider: this.provider, fetch: this.fetch });
    this.client = new Client({ name: 'portcullis-dpop-e2e', version: '1.0.0' }, this.#era === 'modern' ? { versionNegotiation: { mode: 'auto' } } : {});
    await this.client.connect(this.transport);
    return this.client;
  }

  /**
   * The whole sign-in as a desktop client does it: the first connect is refused and the SDK discovers,
   * registers and asks to open the authorization URL; the user signs in and consents on the real pages;
   * the SDK redeems the code (`finishAuth`) and connects again.
   */
  async signIn(): Promise<Client> {
    await assert.rejects(this.connect(), (e: unknown) => e instanceof UnauthorizedError);
    await this.transport!.finishAuth(await this.authorizeInBrowser());
    return this.connect();
  }

  /** Signs in and consents on the pages the SDK asked to open; returns the callback parameters. */
  async authorizeInBrowser(): Promise<URLSearchParams> {
    const authorizationUrl = this.provider.authorizationUrls.at(-1);
    assert.ok(authorizationUrl, 'the SDK asked to open an authorization URL');
    const callback = await authorizeWithForms({ fetch: this.fetch, authorizationUrl, ...E2E_USER });
    assert.equal(callback.searchParams.get('error'), null, `authorization failed: ${callback.searchParams.get('error_description')}`);
    assert.equal(callback.searchParams.get('state'), this.provider.expectedState);
    return callback.searchParams;
  }

  async whoami(): Promise<Record<string, unknown>> {
    assert.ok(this.client, 'connected');
    return (await this.client.callTool({ name: 'whoami', arguments: {} })).structuredContent as Record<string, unknown>;
  }

  get accessToken(): string {
    const token = this.provider.tokenSet?.access_token;
    assert.ok(token, 'the client holds an access token');
    return token;
  }

  /** The claims of the access token the client holds (a JWT), decoded here. */
  get claims(): { cnf?: { jkt?: string }; client_id?: string; exp?: number } {
    return decodeJwt(this.accessToken);
  }

  /** `METHOD /path STATUS` for each exchange, to read in assertion messages. */
  trace(): string {
    return this.exchanges.map((e) => `${e.method} ${e.url.pathname} ${e.status}${e.error ? ` ${e.error}` : ''} (${e.servedBy})`).join('\n');
  }
}

/** The OAuth `error` of a JSON error body, or the `error` of a `WWW-Authenticate` challenge. */
export async function errorCode(response: Response): Promise<string | undefined> {
  const challenge = /error="([^"]+)"/.exec(response.headers.get('WWW-Authenticate') ?? '');
  if (challenge) return challenge[1];
  const body = (await response.json().catch(() => undefined)) as { error?: unknown } | undefined;
  return typeof body?.error === 'string' ? body.error : undefined;
}
