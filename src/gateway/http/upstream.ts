import type { UpstreamSettings } from '../../config/upstream.ts';
import type { AppContext } from '../../context.ts';
import { isInitialize, jsonRpcError } from '../../mcp/json-rpc.ts';
import type { Principal } from '../../resource/guard.ts';
import { UPSTREAM_MESSAGES, upstreamError } from '../errors.ts';
import type { Upstream } from '../upstream.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.ts';
import { relayBody } from './relay-body.ts';
import { discardBody, upstreamTransportFor, type UpstreamAnswer } from './upstream-transport.ts';
import { sealedSessions } from './sealed-sessions.ts';
import { memorySessions, type GatewaySessions, type SessionBinding } from './session-bindings.ts';
import { ANONYMOUS_OWNER, anonymousSessionsFull } from '../../mcp/session-table.ts';

/** Sessions one user may hold through the gateway at once, as for the built-in server. */
const MAX_SESSIONS_PER_SUBJECT = 32;
/** Sessions opened without a token (public tools), all callers together, as for the built-in server. */
const MAX_ANONYMOUS_SESSIONS = 256;
/** Statuses whose response has no body (a Response with one cannot even be built). */
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);
const TIMED_OUT = Symbol('upstream timed out');
/** On shutdown, how long the upstream gets to hear that the gateway's sessions are over. */
const SHUTDOWN_DELETE_MS = 2000;

/**
 * The proxy to a Streamable HTTP upstream. Requests are relayed as they are — POST, GET and DELETE,
 * any protocol revision, bodies streamed both ways without buffering — with three changes: the
 * client's credentials are swapped for the gateway's (RS-19), the caller's identity is stated in
 * the configured headers, and the upstream's session ids are swapped for handles bound to the user
 * who opened them (RS-22/RS-23). When the upstream fails, the client gets a JSON-RPC error with 502,
 * or 504 when it does not start answering within `upstream.timeout`: never a hang.
 *
 * Seed 2 (BioMCP) relayed sessions in a `?session_id=` query shared by everyone, dropped
 * `Mcp-Session-Id` both ways and buffered every response (defect 13); none of that here. The
 * client's query string is never forwarded.
 *
 * 2026-07-28 requests carry no session; any request-state handle in them is the upstream's to
 * bind to the caller (RS-23), which it can, since every request names the caller in the identity
 * headers. Sessions live in this process's memory, like the built-in server's; on Workers, in their
 * handles (./sealed-sessions.ts).
 */
export function createHttpUpstream(ctx: AppContext, settings: UpstreamSettings & { url: string }): Upstream {
  const logger = ctx.logger.child({ component: 'gateway' });
  const timeoutMs = settings.timeout * 1000;
  const idleTtlMs = ctx.config.mcpSessionIdleTtl * 1000;
  /** Every upstream exchange still open, so shutdown can end them instead of waiting for them. */
  const inflight = new Set<AbortController>();
  /** DELETEs of sessions the gateway dropped, still under way. */
  const endings = new Set<Promise<void>>();
  const transport = upstreamTransportFor(ctx.fetch, settings.url);

  // On Workers the next request of a session usually reaches another isolate: the binding travels in the handle.
  const bindings: GatewaySessions =
    ctx.runtime === 'workers'
      ? sealedSessions(ctx)
      : memorySessions(
          {
            clock: ctx.clock,
            idleTtlMs,
            maxPerSubject: MAX_SESSIONS_PER_SUBJECT,
            maxAnonymous: MAX_ANONYMOUS_SESSIONS,
            logger,
            // Not awaited: shutdown gives these DELETEs at most SHUTDOWN_DELETE_MS (see close).
            onDropped: (binding) => endUpstreamSession(binding),
          },
          ctx.random,
        );

  /** One request to the upstream, with the connect-and-headers deadline; the body is the caller's to read. */
  async function exchange(method: string, headers: Headers, body: string | undefined, clientSignal?: AbortSignal): Promise<Exchange | typeof TIMED_OUT | Error> {
    const controller = new AbortController();
    inflight.add(controller);
    const stopOnClientAbort = () => controller.abort(clientSignal?.reason);
    // A client already gone never started listening for 'abort': its request is not sent at all.
    if (clientSignal?.aborted) controller.abort(clientSignal.reason);
    else clientSignal?.addEventListener('abort', stopOnClientAbort, { once: true });
    const deadline = setTimeout(() => controller.abort(TIMED_OUT), timeoutMs);
    // Shutdown's DELETEs must not keep the process alive for the whole timeout.
    deadline.unref?.();
    const done = () => {
      inflight.delete(controller);
      clientSignal?.removeEventListener('abort', stopOnClientAbort);
    };
    try {
      const response = await transport.send(method, headers, body, controller.signal);
      return { response, done, abort: () => controller.abort(), signal: controller.signal };
    } catch (error) {
      done();
      return controller.signal.reason === TIMED_OUT ? TIMED_OUT : error instanceof Error ? error : new Error(String(error));
    } finally {
      clearTimeout(deadline);
    }
  }

  /** Best effort: tells the upstream that a session the gateway dropped (idle, evicted, shutdown) is over. */
  function endUpstreamSession(binding: SessionBinding): void {
    const headers = upstreamRequestHeaders({ client: new Headers(), principal: binding, settings, upstreamSessionId: binding.upstreamId });
    const ending = exchange('DELETE', headers, undefined).then(async (outcome) => {
      if (outcome === TIMED_OUT || outcome instanceof Error) return logger.debug('ending an upstream session failed', { reason: outcome === TIMED_OUT ? 'timeout' : outcome.message });
      await discardBody(outcome.response.body);
      outcome.done();
    });
    endings.add(ending);
    void ending.finally(() => endings.delete(ending));
  }

  /**
   * `principal` null: a caller without a token (public tools), in sessions of its own and with no
   * identity headers. Its initialize holds one of the anonymous slots while it runs; when they are
   * all taken it is refused before the upstream is asked (nobody else's session is ended for it).
   */
  async function handle(request: Request, principal: Principal | null, parsedBody: unknown): Promise<Response> {
    if (principal !== null || request.method !== 'POST' || request.headers.has('Mcp-Session-Id') || !isInitialize(parsedBody)) return relay(request, principal, parsedBody);
    const release = bindings.reserveAnonymous();
    if (!release) return anonymousSessionsFull(logger);
    try {
      return await relay(request, principal, parsedBody);
    } finally {
      release();
    }
  }

  async function relay(request: Request, principal: Principal | null, parsedBody: unknown): Promise<Response> {
    const method = request.method;
    const caller = principal ?? { ...ANONYMOUS_OWNER, scopes: [] };
    const sessionHandle = request.headers.get('Mcp-Session-Id');
    let binding: SessionBinding | undefined;
    if (sessionHandle !== null) {
      binding = await bindings.find(sessionHandle, caller);
      // Unknown, expired and someone else's look the same (RS-23); the upstream is not asked.
      if (!binding) return jsonRpcError(404, -32001, 'Session not found');
      binding.scopes = caller.scopes;
    }

    let requestBody: string | undefined;
    try {
      requestBody = method === 'POST' ? JSON.stringify(parsedBody) : undefined;
    } catch {
      // Nesting too deep to serialize again (RangeError): the client's mistake, not the gateway's.
      return jsonRpcError(400, -32600, 'Invalid Request: the JSON is nested too deeply');
    }
    const headers = upstreamRequestHeaders({ client: request.headers, principal: caller, settings, body: parsedBody, ...(binding ? { upstreamSessionId: binding.upstreamId } : {}) });
    const outcome = await exchange(method, headers, requestBody, request.signal);
    if (outcome === TIMED_OUT) {
      logger.warn('upstream MCP server did not answer in time', { method, timeout_s: settings.timeout });
      return upstreamError(504, UPSTREAM_MESSAGES.timeout, parsedBody);
    }
    if (outcome instanceof Error) {
      if (request.signal.aborted) {
        logger.debug('client went away before the upstream answered', { method });
        return upstreamError(502, UPSTREAM_MESSAGES.unavailable, parsedBody);
      }
      logger.warn('upstream MCP server unavailable', { method, error: outcome.message, cause: errorCause(outcome) });
      return upstreamError(502, UPSTREAM_MESSAGES.unavailable, parsedBody);
    }
    const { response: upstream, done, abort, signal } = outcome;

    const refused = upstream.status === 401 || upstream.status === 407 || (upstream.status >= 300 && upstream.status < 400);
    if (refused || upstream.status >= 500) {
      await discardBody(upstream.body);
      done();
      if (refused) logger.warn('upstream MCP server refused the gateway: check upstream.bearerToken / upstream.secretHeaders', { status: upstream.status });
      else logger.warn('upstream MCP server failed', { method, status: upstream.status });
      return upstreamError(upstream.status === 504 ? 504 : 502, refused ? UPSTREAM_MESSAGES.refused : UPSTREAM_MESSAGES.unavailable, parsedBody);
    }

    /** The live session this response belongs to, if any. */
    let session = binding;
    if (binding && (upstream.status === 404 || (method === 'DELETE' && isSuccess(upstream.status)))) {
      // The client ended it, or the upstream no longer knows it (restarted): the client re-initializes.
      bindings.forget(binding.id);
      session = undefined;
    }
    const upstreamSessionId = upstream.headers.get('Mcp-Session-Id');
    if (!binding && upstreamSessionId && isSuccess(upstream.status)) {
      const opened = await bindings.bind(upstreamSessionId, caller);
      if (!opened) {
        // RS-23: an upstream that hands out the same session id twice (constant or predictable ids)
        // would let one user act in another's session. The existing binding stays; this one is refused.
        await discardBody(upstream.body);
        done();
        logger.warn('upstream MCP server reused a session id that belongs to another user or client; refused', { method });
        return upstreamError(502, UPSTREAM_MESSAGES.unavailable, parsedBody);
      }
      session = opened;
    }

    const relaying = upstream.body !== null && !NULL_BODY_STATUS.has(upstream.status);
    // A session whose GET stream is still open is in use, not idle. (POST streams end with their
    // request's answer; their request already counted as use.)
    const streamEnded = relaying && session && method === 'GET' ? bindings.streamOpened(session) : () => {};
    const body = upstream.body && relaying
      ? relayBody(upstream.body, {
          idleTimeoutMs: settings.streamIdleTimeout * 1000,
          signal,
          onFinished: () => {
            streamEnded();
            done();
          },
          onInterrupted: (why, error) => {
            streamEnded();
            abort();
            done();
            if (why === 'client-gone') logger.debug('client went away; upstream stream cancelled', { method });
            else logger.warn(why === 'upstream-idle' ? 'upstream stream idle for too long; closed' : 'upstream stream broke', { method, ...(error instanceof Error ? { error: error.message } : {}) });
          },
        })
      : null;
    if (!body) {
      await discardBody(upstream.body);
      done();
    }
    return new Response(body, { status: upstream.status, headers: clientResponseHeaders(upstream.headers, session?.id) });
  }

  return {
    handle,
    sweep: () => bindings.sweep(),
    get sessionCount() {
      return bindings.size;
    },
    async close() {
      for (const controller of inflight) controller.abort();
      inflight.clear();
      await bindings.close();
      await Promise.race([Promise.allSettled([...endings]), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_DELETE_MS).unref())]);
      await transport.close();
    },
  };
}

interface Exchange {
  response: UpstreamAnswer;
  /** The exchange is over (body read, cancelled or never there): stop tracking it. */
  done(): void;
  /** Ends the upstream request (the connection, if still open). */
  abort(): void;
  readonly signal: AbortSignal;
}

const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/** `fetch failed` says nothing; its cause (ECONNREFUSED, ENOTFOUND…) says what to fix. */
function errorCause(error: Error): string | undefined {
  // The connection pool's errors carry the code themselves.
  if ('code' in error && typeof error.code === 'string' && /^E[A-Z]+$/.test(error.code)) return error.code;
  const cause = error.cause;
  if (cause instanceof Error) return 'code' in cause && typeof cause.code === 'string' ? cause.code : cause.message;
  return undefined;
}
