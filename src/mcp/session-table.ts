import type { Logger } from '../log/logger.ts';
import type { Principal } from '../resource/guard.ts';
import type { Clock } from '../util/clock.ts';
import { startSweeper } from '../util/sweeper.ts';
import { jsonRpcError } from './json-rpc.ts';

/** Who a session belongs to: the subject and client of the token that opened it. */
export type SessionOwner = Pick<Principal, 'subject' | 'clientId'>;

/**
 * The owner of every session opened without a token (public tools). No token names it: every
 * verifier refuses an empty `sub` or `client_id` (src/resource/verifiers/claims.ts,
 * src/resource/verify-local.ts). So a caller without a token finds only sessions opened without
 * one, and a signed-in caller never finds those (404: it starts a new session, as a client must),
 * nor is its own session found for a caller without a token.
 */
export const ANONYMOUS_OWNER: SessionOwner = Object.freeze({ subject: '', clientId: '' });

/** The owner a request acts as: its principal's, or the anonymous one without a token. */
export const sessionOwnerOf = (principal: SessionOwner | null): SessionOwner => principal ?? ANONYMOUS_OWNER;

export const isAnonymousOwner = (owner: SessionOwner): boolean => owner.subject === '' && owner.clientId === '';

/** When every anonymous session is taken: try again once idle ones may have been swept. */
const ANONYMOUS_FULL_RETRY_AFTER_SECONDS = 30;

/** The answer to a caller without a token when every anonymous session is taken (`reserveAnonymous`). */
export function anonymousSessionsFull(logger: Logger): Response {
  logger.warn('every mcp session without a token is taken; a new one was refused');
  return jsonRpcError(503, -32000, 'Service Unavailable: too many sessions without sign-in are open; try again later', { 'Retry-After': String(ANONYMOUS_FULL_RETRY_AFTER_SECONDS) });
}

/** What the table needs of a session: its handle, who owns it, and when it was last used. */
export interface OwnedSession {
  /** The handle the client names in `Mcp-Session-Id`: from the CSPRNG, never a credential. */
  readonly id: string;
  /** RS-22/RS-23: the user and client that opened it; for anyone else it does not exist. */
  readonly subject: string;
  readonly clientId: string;
  lastUsedAt: number;
  /** Responses of this session still streaming to the client; while any is, the session is not idle. */
  openStreams: number;
}

export interface SessionTableOptions<S extends OwnedSession> {
  clock: Clock;
  idleTtlMs: number;
  /** Sessions one user may hold at once; opening another ends their least recently used one. */
  maxPerSubject: number;
  /**
   * Sessions opened without a token, all together (they share one owner). Default `maxPerSubject`.
   * When they are all taken a new one is refused (`reserveAnonymous`), never made by ending another
   * caller's: evicting the least recently used would let anyone end every anonymous session.
   */
  maxAnonymous?: number;
  /** Ends a session the client did not end: idle, evicted, or shutdown. Failures are logged. */
  onDropped(session: S): void | Promise<void>;
  logger: Logger;
}

/**
 * The one table of principal-bound MCP sessions, used by the built-in server's 2025-era sessions
 * (./sessions.ts) and by the gateway's upstream sessions (src/gateway/http/upstream.ts). It owns
 * what they have in common: a session is found only by the subject and client that opened it
 * (anyone else is told it does not exist: RS-22/RS-23), a user's sessions are capped (the least
 * recently used goes), sessions idle for `idleTtlMs` are dropped (a session with an open stream is
 * in use), and a sweeper runs only while the table has sessions. In memory: a restart ends every
 * session, and clients re-initialize (404 tells them to).
 */
export class SessionTable<S extends OwnedSession> {
  readonly #options: SessionTableOptions<S>;
  readonly #byId = new Map<string, S>();
  /** Drops whose ending (a server closing, a child process stopping) is still under way. */
  readonly #ending = new Set<Promise<void>>();
  /** Anonymous sessions being opened (their slot is held until they are added or fail). */
  #reservedAnonymous = 0;
  #stopSweeper: (() => void) | undefined;

  constructor(options: SessionTableOptions<S>) {
    this.#options = options;
  }

  get size(): number {
    return this.#byId.size;
  }

  values(): IterableIterator<S> {
    return this.#byId.values();
  }

  /**
   * Holds a slot for an anonymous session about to be opened: the function to call once it is
   * added (or failed to open), or undefined when every slot is taken, and the caller must be refused
   * (503) before anything is started for it (a stdio child, an upstream session).
   */
  reserveAnonymous(): (() => void) | undefined {
    const max = this.#options.maxAnonymous ?? this.#options.maxPerSubject;
    const held = [...this.#byId.values()].filter(isAnonymousOwner).length;
    if (held + this.#reservedAnonymous >= max) return undefined;
    this.#reservedAnonymous += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#reservedAnonymous -= 1;
    };
  }

  /**
   * Adds a new session. A user holding the maximum loses their least recently used one first; an
   * anonymous session is never a reason to end another (its slot was reserved: `reserveAnonymous`).
   */
  add(session: S): void {
    if (!isAnonymousOwner(session)) {
      const owned = [...this.#byId.values()].filter((s) => s.subject === session.subject);
      if (owned.length >= this.#options.maxPerSubject) void this.#drop(owned.reduce((a, b) => (a.lastUsedAt <= b.lastUsedAt ? a : b)));
    }
    this.#byId.set(session.id, session);
    this.#stopSweeper ??= startSweeper(this.#options.idleTtlMs, () => this.sweep());
  }

  /**
   * The caller's live session with this handle, marked as used now; undefined for an unknown handle,
   * someone else's (the same answer: RS-23), or one idle for too long (which is dropped).
   */
  find(id: string, principal: SessionOwner): S | undefined {
    const session = this.#byId.get(id);
    if (!session) return undefined;
    if (session.subject !== principal.subject || session.clientId !== principal.clientId) {
      this.#options.logger.warn('mcp session presented by another principal', { subject: principal.subject, client_id: principal.clientId });
      return undefined;
    }
    const now = this.#options.clock.now();
    if (this.#isIdle(session, now)) {
      void this.#drop(session);
      return undefined;
    }
    session.lastUsedAt = now;
    return session;
  }

  /**
   * A response of `session` started streaming to the client; call the returned function (any number
   * of times) when it ends. A client that only holds a GET stream open is using its session: it is
   * not swept while the stream lasts, and its idle time counts from the stream's end.
   */
  streamOpened(session: S): () => void {
    session.openStreams += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      session.openStreams -= 1;
      session.lastUsedAt = this.#options.clock.now();
    };
  }

  /** Removes a session that already ended (the client's DELETE, its server gone) without ending it again. */
  forget(id: string): void {
    this.#byId.delete(id);
    if (this.#byId.size === 0) this.#haltSweeper();
  }

  /** Ends sessions idle for longer than the TTL; returns how many. Runs on a timer, callable directly. */
  async sweep(): Promise<number> {
    const now = this.#options.clock.now();
    const idle = [...this.#byId.values()].filter((s) => this.#isIdle(s, now));
    await Promise.all(idle.map((s) => this.#drop(s)));
    return idle.length;
  }

  /** Ends every session and waits for their endings (shutdown). */
  async close(): Promise<void> {
    this.#haltSweeper();
    for (const session of [...this.#byId.values()]) void this.#drop(session);
    await Promise.all([...this.#ending]);
  }

  #isIdle(session: S, now: number): boolean {
    return session.openStreams === 0 && now - session.lastUsedAt >= this.#options.idleTtlMs;
  }

  #drop(session: S): Promise<void> {
    if (this.#byId.get(session.id) !== session) return Promise.resolve();
    this.forget(session.id);
    const ending = (async () => {
      try {
        await this.#options.onDropped(session);
      } catch (error) {
        this.#options.logger.warn('ending an mcp session failed', { error });
      }
    })();
    this.#ending.add(ending);
    void ending.finally(() => this.#ending.delete(ending));
    return ending;
  }

  #haltSweeper(): void {
    this.#stopSweeper?.();
    this.#stopSweeper = undefined;
  }
}
