import { WebStandardStreamableHTTPServerTransport, type AuthInfo, type McpRequestContext } from '@modelcontextprotocol/server';
import type { Logger } from '../log/logger.ts';
import type { Principal } from '../resource/guard.ts';
import type { Clock } from '../util/clock.ts';
import { randomId, type RandomBytes } from '../util/crypto.ts';
import { startSweeper } from '../util/sweeper.ts';
import { isInitialize, jsonRpcError } from './json-rpc.ts';

/** Sessions one user may hold at once (by default); opening another closes their least recently used one. */
const MAX_SESSIONS_PER_SUBJECT = 32;

/**
 * What serves a session over its transport: an SDK `McpServer`/`Server`, or the gateway's bridge to
 * a stdio MCP server (src/gateway/stdio/bridge.ts).
 */
export interface SessionEndpoint {
  connect(transport: WebStandardStreamableHTTPServerTransport): Promise<void>;
  close(): Promise<void>;
}

export type SessionEndpointFactory = (ctx: McpRequestContext) => SessionEndpoint | Promise<SessionEndpoint>;

interface Session {
  id: string;
  /** RS-22/RS-23: the session belongs to this user and this client; anyone else gets 404. */
  subject: string;
  clientId: string;
  transport: WebStandardStreamableHTTPServerTransport;
  server: SessionEndpoint;
  lastUsedAt: number;
  /** SSE responses of this session still open (a long GET stream): while any is, it is not idle. */
  openStreams: number;
}

export interface LegacySessionsOptions {
  factory: SessionEndpointFactory;
  clock: Clock;
  random: RandomBytes;
  logger: Logger;
  idleTtlMs: number;
  /** Default 32. */
  maxSessionsPerSubject?: number;
}

/**
 * 2025-era (protocol 2025-03-26 … 2025-11-25) Streamable HTTP sessions, kept in memory.
 *
 * A session id is a CSPRNG handle and never a credential: every request is authenticated by its
 * token first, and a session is only found for the same subject and client that opened it; for
 * anyone else it does not exist (404). Sessions idle for `idleTtlMs` are closed.
 */
export class LegacySessions {
  #options: LegacySessionsOptions;
  #sessions = new Map<string, Session>();
  #stopSweeper: (() => void) | undefined;

  constructor(options: LegacySessionsOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#sessions.size;
  }

  async handle(request: Request, principal: Principal, authInfo: AuthInfo, parsedBody: unknown): Promise<Response> {
    const sessionId = request.headers.get('Mcp-Session-Id');
    if (sessionId === null) {
      if (request.method === 'POST' && isInitialize(parsedBody)) return this.#open(request, principal, authInfo, parsedBody);
      return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    }
    const session = await this.#find(sessionId, principal);
    if (!session) return jsonRpcError(404, -32001, 'Session not found');
    session.lastUsedAt = this.#options.clock.now();
    const response = await session.transport.handleRequest(request, { authInfo, parsedBody });
    return request.method === 'GET' ? this.#tracked(session, response) : response;
  }

  /**
   * A client that only holds its GET stream open is using the session: the stream counts as use
   * until it ends (or the client cancels it), and the idle time starts from there. (POST streams
   * end with their request's answer; their request already counted as use.)
   */
  #tracked(session: Session, response: Response): Response {
    const body = response.body;
    if (!body || !response.headers.get('content-type')?.startsWith('text/event-stream')) return response;
    session.openStreams += 1;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      session.openStreams -= 1;
      session.lastUsedAt = this.#options.clock.now();
    };
    const reader = body.getReader();
    const watched = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            const next = await reader.read();
            if (next.done) {
              end();
              controller.close();
            } else controller.enqueue(next.value);
          } catch (error) {
            end();
            controller.error(error);
          }
        },
        async cancel(reason) {
          end();
          await reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(watched, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  async #find(id: string, principal: Principal): Promise<Session | undefined> {
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (session.subject !== principal.subject || session.clientId !== principal.clientId) {
      this.#options.logger.warn('mcp session presented by another principal', { subject: principal.subject, client_id: principal.clientId });
      return undefined;
    }
    if (this.#isIdle(session, this.#options.clock.now())) {
      await this.#close(session);
      return undefined;
    }
    return session;
  }

  async #open(request: Request, principal: Principal, authInfo: AuthInfo, parsedBody: unknown): Promise<Response> {
    const { factory, random, clock } = this.#options;
    const server = await factory({ era: 'legacy', authInfo, requestInfo: request });
    let session: Session | undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomId(random, 32),
      onsessioninitialized: (id) => {
        session = { id, subject: principal.subject, clientId: principal.clientId, transport, server, lastUsedAt: clock.now(), openStreams: 0 };
        this.#evictOldestOf(principal.subject);
        this.#sessions.set(id, session);
        this.#startSweeper();
      },
      // DELETE from the client: the transport closes itself (and so the server) after this.
      onsessionclosed: (id) => this.#forget(id),
    });
    await server.connect(transport);
    // A session that ends by itself (its stdio child exited, its server closed the transport) leaves
    // the table at once, freeing its user's slot, instead of lingering as a 404 until the idle sweep.
    // Chained after the endpoint's own handler, which connect() installed.
    const endpointOnClose = transport.onclose;
    transport.onclose = () => {
      if (session) this.#forget(session.id);
      endpointOnClose?.();
    };
    const response = await transport.handleRequest(request, { authInfo, parsedBody });
    // A failed initialize leaves no session behind.
    if (!session) await server.close();
    return response;
  }

  #evictOldestOf(subject: string): void {
    const owned = [...this.#sessions.values()].filter((s) => s.subject === subject);
    if (owned.length < (this.#options.maxSessionsPerSubject ?? MAX_SESSIONS_PER_SUBJECT)) return;
    const oldest = owned.reduce((a, b) => (a.lastUsedAt <= b.lastUsedAt ? a : b));
    void this.#close(oldest);
  }

  #isIdle(session: Session, now: number): boolean {
    return session.openStreams === 0 && now - session.lastUsedAt >= this.#options.idleTtlMs;
  }

  /** Closes sessions idle for longer than the TTL; returns how many. Runs on a timer, callable directly. */
  async sweep(): Promise<number> {
    const now = this.#options.clock.now();
    const idle = [...this.#sessions.values()].filter((s) => this.#isIdle(s, now));
    await Promise.all(idle.map((s) => this.#close(s)));
    return idle.length;
  }

  #forget(id: string): void {
    this.#sessions.delete(id);
    if (this.#sessions.size === 0) this.#haltSweeper();
  }

  async #close(session: Session): Promise<void> {
    this.#forget(session.id);
    try {
      await session.server.close();
    } catch (error) {
      this.#options.logger.warn('closing an mcp session failed', { error });
    }
  }

  #startSweeper(): void {
    this.#stopSweeper ??= startSweeper(this.#options.idleTtlMs, () => this.sweep());
  }

  #haltSweeper(): void {
    this.#stopSweeper?.();
    this.#stopSweeper = undefined;
  }

  /** Ends every session (graceful shutdown). */
  async close(): Promise<void> {
    this.#haltSweeper();
    await Promise.all([...this.#sessions.values()].map((s) => this.#close(s)));
  }
}
