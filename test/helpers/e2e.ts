import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { DpopSession, OAuthClientInformationMixed, OAuthClientMetadata, OAuthClientProvider, OAuthDiscoveryState, OAuthTokens } from '@modelcontextprotocol/client';
import { resolveConfig } from '../../src/config/resolve.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createUser } from '../../src/identity/users.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import type { Storage } from '../../src/storage/types.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { systemRandom } from '../../src/util/crypto.ts';

/**
 * Shared pieces of the end-to-end tests: a client-side OAuth provider as a desktop MCP client keeps
 * it, and the real app on a real socket.
 */

export const E2E_USER = { username: 'alice', password: 'correct horse battery staple' } as const;

/** The client side of OAuth, kept in memory: what a desktop MCP client would persist. */
export class InMemoryOAuthProvider implements OAuthClientProvider {
  readonly redirectUrl: string;
  readonly clientMetadata: OAuthClientMetadata;
  /** Set: the SDK uses this client ID metadata document URL as client_id instead of registering. */
  readonly clientMetadataUrl: string | undefined;
  client: OAuthClientInformationMixed | undefined;
  tokenSet: OAuthTokens | undefined;
  /** Every authorization URL the SDK asked us to open, oldest first. */
  readonly authorizationUrls: URL[] = [];
  /** How often the SDK stored tokens (code exchanges and refreshes). */
  tokensSaved = 0;
  registrations = 0;
  /**
   * Present only for a DPoP client (RFC 9449): the SDK then signs proofs at the token endpoint and
   * presents `token_type: DPoP` tokens with proofs. Absent, the SDK sees a plain bearer client.
   */
  readonly dpop?: () => DpopSession;
  #verifier = '';
  #state = '';
  #discovery: OAuthDiscoveryState | undefined;

  /**
   * `redirectUrl`: where the browser is sent back (a loopback listener of the test's, for browser flows).
   * `dpop`: the client's DPoP key and nonces, kept for the life of its registration.
   */
  constructor(options: { redirectUrl?: string; clientName?: string; clientMetadataUrl?: string; dpop?: DpopSession } = {}) {
    this.redirectUrl = options.redirectUrl ?? 'http://127.0.0.1:53682/callback';
    this.clientMetadataUrl = options.clientMetadataUrl;
    const session = options.dpop;
    if (session) this.dpop = () => session;
    this.clientMetadata = {
      client_name: options.clientName ?? 'Portcullis E2E client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    this.#state = randomBytes(16).toString('base64url');
    return this.#state;
  }
  get expectedState(): string {
    return this.#state;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.registrations++;
    this.client = info;
  }
  tokens() {
    return this.tokenSet;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.tokensSaved++;
    this.tokenSet = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrls.push(url);
  }
  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }
  codeVerifier(): string {
    return this.#verifier;
  }
  /** Lets the SDK check that the code comes back from the authorization server it was sent to (SEP-2352). */
  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state;
  }
  discoveryState() {
    return this.#discovery;
  }
}

export interface RealServer {
  origin: string;
  portcullis: Portcullis;
  clock: ManualClock;
  close(): Promise<void>;
}

/**
 * Portcullis on 127.0.0.1 (random port) on in-memory SQLite, with a ManualClock so tokens can be made
 * to expire, and one user (`E2E_USER`). It binds first so the public URL names the real port.
 * `storage`: a database shared with other instances (one of several servers behind a load balancer;
 * give them one `publicUrl` then); the user is created once.
 */
export async function startRealServer(config: ConfigInput = {}, options: { fetch?: typeof fetch; storage?: Storage } = {}): Promise<RealServer> {
  const clock = new ManualClock(Date.now());
  let handle: (request: Request, env: unknown) => Response | Promise<Response> = () => new Response('starting', { status: 503 });
  const server = createAdaptorServer({ fetch: (request, env) => handle(request, env) }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const storage = options.storage ?? (await openSqliteStorage(':memory:'));
  const portcullis = await createPortcullis({
    config: resolveConfig({ publicUrl: origin, database: ':memory:', ...config }),
    storage,
    clock,
    logger: createMemoryLogger(),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  handle = (request, env) => portcullis.app.fetch(request, env);
  if (!(await storage.users.byUsername(E2E_USER.username))) await createUser(storage, E2E_USER, { now: clock.now(), random: systemRandom });
  return {
    origin,
    portcullis,
    clock,
    close: () =>
      portcullis.close({
        drain: () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      }),
  };
}
