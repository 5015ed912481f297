import { isInitializeRequest, isJsonContentType, WebStandardStreamableHTTPServerTransport, type AuthInfo, type McpRequestContext } from '@modelcontextprotocol/server';
import type { Logger } from '../log/logger.ts';
import type { Principal } from '../resource/guard.ts';
import type { Clock } from '../util/clock.ts';
import { randomId, type RandomBytes } from '../util/crypto.ts';
import { isInitialize, jsonRpcError } from './json-rpc.ts';
import { anonymousSessionsFull, isAnonymousOwner, SessionTable, sessionOwnerOf, type OwnedSession, type SessionOwner } from './session-table.ts';

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

interface Session extends OwnedSession {
  transport: WebStandardStreamableHTTPServerTransport;
  server: SessionEndpoint;
}

export interface LegacySessionsOptions {
  factory: SessionEndpointFactory;
  clock: Clock;
  random: RandomBytes;
  logger: Logger;
  idleTtlMs: number;
  /** Default 32. */
  maxSessionsPerSubject?: number;
  /** Sessions opened without a token (public tools), all together. Default `maxSessionsPerSubject`. */
  maxAnonymousSessions?: number;
  /**
   * Answer a POST that carries requests with one JSON body instead of an SSE stream (the transport's
   * `enableJsonResponse`; both are valid Streamable HTTP answers, and clients must accept both). Only
   * for endpoints that never send a message tied to a request before its answer (progress, logging,
   * a server-to-client request), which JSON cannot carry: the built-in tools. The GET stream is SSE
   * either way. Default false.
   */
  jsonResponses?: boolean;
}

/**
 * 2025-era (protocol 2025-03-26 … 2025-11-25) Streamable HTTP sessions, kept in memory.
 *
 * A session id is a CSPRNG handle and never a credential: every request is authenticated by its
 * token first, and a session is only found for the same subject and client that opened it; for
 * anyone else it does not exist (404). Sessions idle for `idleTtlMs` are closed. The ownership, cap
 * and idle rules are the shared session table's (./session-table.ts).
 */
export class LegacySessions {
  #options: LegacySessionsOptions;
  #table: SessionTable<Session>;

  constructor(options: LegacySessionsOptions) {
    this.#options = options;
    this.#table = new SessionTable<Session>({
      clock: options.clock,
      idleTtlMs: options.idleTtlMs,
      maxPerSubject: options.maxSessionsPerSubject ?? MAX_SESSIONS_PER_SUBJECT,
      maxAnonymous: options.maxAnonymousSessions ?? options.maxSessionsPerSubject ?? MAX_SESSIONS_PER_SUBJECT,
      logger: options.logger,
      onDropped: (session) => session.server.close(),
    });
  }

  get size(): number {
    return this.#table.size;
  }

  /** `principal` null, `authInfo` undefined: a caller without a token, in sessions opened without one. */
  async handle(request: Request, principal: Principal | null, authInfo: AuthInfo | undefined, parsedBody: unknown): Promise<Response> {
    const owner = sessionOwnerOf(principal);
    const sessionId = request.headers.get('Mcp-Session-Id');
    if (sessionId === null) {
      if (request.method === 'POST' && isInitialize(parsedBody)) return this.#open(request, owner, authInfo, parsedBody);
      return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    }
    const session = this.#table.find(sessionId, owner);
    if (!session) return jsonRpcError(404, -32001, 'Session not found');
    const response = await session.transport.handleRequest(request, { ...(authInfo ? { authInfo } : {}), parsedBody });
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
    const end = this.#table.streamOpened(session);
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

  async #open(request: Request, owner: SessionOwner, authInfo: AuthInfo | undefined, parsedBody: unknown): Promise<Response> {
    // Nothing is started (a server, a stdio child process) for a request the transport would refuse anyway.
    const refusal = initializeRefusal(request, parsedBody);
    if (refusal) return refusal;
    if (!isAnonymousOwner(owner)) return this.#start(request, owner, authInfo, parsedBody);
    // Callers without a token share one pool: when it is full the newcomer waits, nobody is evicted.
    const release = this.#table.reserveAnonymous();
    if (!release) return anonymousSessionsFull(this.#options.logger);
    try {
      return await this.#start(request, owner, authInfo, parsedBody);
    } finally {
      release();
    }
  }

  async #start(request: Request, owner: SessionOwner, authInfo: AuthInfo | undefined, parsedBody: unknown): Promise<Response> {
    const { factory, random, clock } = this.#options;
    const server = await factory({ era: 'legacy', ...(authInfo ? { authInfo } : {}), requestInfo: request });
    let session: Session | undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomId(random, 32),
      enableJsonResponse: this.#options.jsonResponses ?? false,
      onsessioninitialized: (id) => {
        session = { id, subject: owner.subject, clientId: owner.clientId, transport, server, lastUsedAt: clock.now(), openStreams: 0 };
        this.#table.add(session);
      },
      // DELETE from the client: the transport closes itself (and so the server) after this.
      onsessionclosed: (id) => this.#table.forget(id),
    });
    await server.connect(transport);
    // A session that ends by itself (its stdio child exited, its server closed the transport) leaves
    // the table at once, freeing its user's slot, instead of lingering as a 404 until the idle sweep.
    // Chained after the endpoint's own handler, which connect() installed.
    const endpointOnClose = transport.onclose;
    transport.onclose = () => {
      if (session) this.#table.forget(session.id);
      endpointOnClose?.();
    };
    const response = await transport.handleRequest(request, { ...(authInfo ? { authInfo } : {}), parsedBody });
    // A failed initialize leaves no session behind.
    if (!session) await server.close();
    return response;
  }

  /** Closes sessions idle for longer than the TTL; returns how many. Runs on a timer, callable directly. */
  sweep(): Promise<number> {
    return this.#table.sweep();
  }

  /** Ends every session (graceful shutdown). */
  close(): Promise<void> {
    return this.#table.close();
  }
}

/**
 * The transport's own refusal of an initialize request (the same status and message it would
 * answer), checked before a server is made for it: `Accept` naming both JSON and SSE, a JSON body,
 * and the initialize request alone.
 */
function initializeRefusal(request: Request, parsedBody: unknown): Response | undefined {
  const accept = request.headers.get('Accept') ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
    return jsonRpcError(406, -32000, 'Not Acceptable: Client must accept both application/json and text/event-stream');
  }
  if (!isJsonContentType(request.headers.get('Content-Type'))) return jsonRpcError(415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
  if (Array.isArray(parsedBody) && parsedBody.length !== 1) return jsonRpcError(400, -32600, 'Invalid Request: Only one initialization request is allowed');
  const message: unknown = Array.isArray(parsedBody) ? parsedBody[0] : parsedBody;
  if (!isInitializeRequest(message)) return jsonRpcError(400, -32600, 'Invalid Request: malformed initialize request');
  return undefined;
}
