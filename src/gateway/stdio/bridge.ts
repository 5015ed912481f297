import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type RequestId,
  type WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { Logger } from '../../log/logger.ts';
import type { SessionEndpoint } from '../../mcp/sessions.ts';
import { UPSTREAM_MESSAGES } from '../errors.ts';
import type { ChildProcessTransport } from './child-transport.ts';

/** How the child answered the session's `initialize`. */
export type InitializeOutcome = 'answered' | 'timeout' | 'exited';

type ProgressToken = string | number;

export interface StdioBridgeOptions {
  child: ChildProcessTransport;
  logger: Logger;
  /** How long the child has to answer `initialize` (`upstream.timeout`). */
  initializeTimeoutMs: number;
}

/**
 * One 2025-era MCP session served by one stdio child: the SDK's Streamable HTTP server transport
 * (sessions, SSE streams, POST/GET/DELETE semantics) on the client's side, the child's stdin/stdout
 * on the other, and JSON-RPC messages passed between them unchanged. Raw forwarding rather than an
 * SDK Client+Server pair: the child's capabilities, tools, resources, prompts, sampling and
 * elicitation requests all pass through without the gateway having to know them.
 *
 * stdio carries no link between a notification and the request it belongs to, but the HTTP side
 * needs one to put the notification on that request's SSE stream. Progress notifications are linked
 * by their progress token; anything else the child sends while exactly one request is open belongs
 * to that request; otherwise it goes to the session's GET stream, as the transport does for
 * unrelated messages.
 */
export class StdioBridge implements SessionEndpoint {
  readonly #child: ChildProcessTransport;
  readonly #logger: Logger;
  readonly #initializeTimeoutMs: number;
  #transport: WebStandardStreamableHTTPServerTransport | undefined;
  /** Requests from the client the child has not answered yet. */
  readonly #open = new Set<RequestId>();
  readonly #progress = new Map<ProgressToken, RequestId>();
  #initializeId: RequestId | undefined;
  #initializeTimer: ReturnType<typeof setTimeout> | undefined;
  #settleInitialize: (outcome: InitializeOutcome) => void = () => {};
  #closed = false;

  /** Settles when the child answers `initialize`, fails to in time, or exits first. */
  readonly initialized: Promise<InitializeOutcome>;

  constructor(options: StdioBridgeOptions) {
    this.#child = options.child;
    this.#logger = options.logger;
    this.#initializeTimeoutMs = options.initializeTimeoutMs;
    this.initialized = new Promise((resolve) => (this.#settleInitialize = resolve));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Starts the child (rejects when it cannot be started) and joins it to the session's transport. */
  async connect(transport: WebStandardStreamableHTTPServerTransport): Promise<void> {
    this.#transport = transport;
    this.#child.onmessage = (message) => this.#fromChild(message);
    this.#child.onerror = (error) => this.#logger.warn('upstream MCP server error', { error: error.message });
    this.#child.onclose = () => void this.#childExited();
    await this.#child.start();
    transport.onmessage = (message) => this.#fromClient(message);
    // DELETE from the client, or the session table closing it: the child goes with it.
    transport.onclose = () => void this.close();
    await transport.start();
  }

  #fromClient(message: JSONRPCMessage): void {
    if (isJSONRPCRequest(message)) {
      this.#open.add(message.id);
      const token = (message.params?._meta as { progressToken?: unknown } | undefined)?.progressToken;
      if (typeof token === 'string' || typeof token === 'number') this.#progress.set(token, message.id);
      if (message.method === 'initialize') this.#watchInitialize(message.id);
    } else if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
      // A cancelled request may never be answered: stop counting it as open.
      const id = (message.params as { requestId?: unknown } | undefined)?.requestId;
      if (typeof id === 'string' || typeof id === 'number') this.#settle(id);
    }
    this.#child.send(message).catch((error: unknown) => {
      this.#logger.debug('could not write to the upstream MCP server', { error: error instanceof Error ? error.message : String(error) });
      if (isJSONRPCRequest(message)) this.#answerWithError(message.id, UPSTREAM_MESSAGES.exited);
    });
  }

  #fromChild(message: JSONRPCMessage): void {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      if (message.id !== undefined) this.#settle(message.id);
      if (message.id !== undefined && message.id === this.#initializeId) this.#initializeDone('answered');
      this.#toClient(message);
      return;
    }
    this.#toClient(message, this.#relatedRequestOf(message));
  }

  #relatedRequestOf(message: JSONRPCMessage): RequestId | undefined {
    if (isJSONRPCNotification(message) && message.method === 'notifications/progress') {
      const token = (message.params as { progressToken?: unknown } | undefined)?.progressToken;
      if (typeof token === 'string' || typeof token === 'number') {
        const id = this.#progress.get(token);
        if (id !== undefined) return id;
      }
    }
    return this.#open.size === 1 ? this.#open.values().next().value : undefined;
  }

  #toClient(message: JSONRPCMessage, relatedRequestId?: RequestId): void {
    // A message for a stream the client has dropped is undeliverable; that is not the child's fault.
    this.#transport?.send(message, relatedRequestId === undefined ? undefined : { relatedRequestId }).catch((error: unknown) => {
      this.#logger.debug('message from the upstream MCP server not delivered', { error: error instanceof Error ? error.message : String(error) });
    });
  }

  #settle(id: RequestId): void {
    this.#open.delete(id);
    for (const [token, request] of this.#progress) if (request === id) this.#progress.delete(token);
  }

  #answerWithError(id: RequestId, message: string): void {
    if (!this.#open.has(id)) return;
    this.#settle(id);
    this.#toClient({ jsonrpc: '2.0', id, error: { code: -32000, message } });
  }

  #watchInitialize(id: RequestId): void {
    this.#initializeId = id;
    this.#initializeTimer = setTimeout(() => this.#initializeDone('timeout'), this.#initializeTimeoutMs);
    this.#initializeTimer.unref?.();
  }

  #initializeDone(outcome: InitializeOutcome): void {
    clearTimeout(this.#initializeTimer);
    this.#settleInitialize(outcome);
  }

  /** The child is gone: every open request gets an error instead of waiting forever, then the session ends. */
  async #childExited(): Promise<void> {
    const { code, signal } = await this.#child.exited;
    // `exit`, not `code`: the logger redacts fields named like authorization codes.
    if (!this.#closed) this.#logger.warn('upstream MCP server exited', { exit: code ?? signal });
    this.#initializeDone('exited');
    for (const id of [...this.#open]) this.#answerWithError(id, UPSTREAM_MESSAGES.exited);
    await this.close();
  }

  /** Ends the session and stops the child (SIGTERM to its process group, then SIGKILL). */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#initializeDone('exited');
      await this.#transport?.close();
    }
    await this.#child.close();
  }
}
