import type { Principal } from '../../resource/guard.ts';
import type { Clock } from '../../util/clock.ts';
import { randomId, type RandomBytes } from '../../util/crypto.ts';

/** One upstream MCP session as the gateway hands it out. */
export interface SessionBinding {
  /** The gateway's handle, given to the client as `Mcp-Session-Id`: 256 random bits. */
  readonly id: string;
  /** The upstream's own session id; never shown to the client. */
  readonly upstreamId: string;
  /** RS-22/RS-23: the user and client that opened it; anyone else is told it does not exist. */
  readonly subject: string;
  readonly clientId: string;
  /** The caller's identity as of the last request, for the DELETE sent when the session expires. */
  scopes: readonly string[];
  lastUsedAt: number;
  /** Responses of this session still streaming to the client; while any is, the session is not idle. */
  openStreams: number;
}

export interface SessionBindingsOptions {
  clock: Clock;
  random: RandomBytes;
  idleTtlMs: number;
  /** Sessions one user may hold at once; opening another ends their least recently used one. */
  maxPerSubject: number;
  /** Told about every binding that ends without the client asking (idle, evicted, shutdown). */
  onDropped: (binding: SessionBinding) => void;
}

/**
 * The gateway's table of upstream sessions. Each upstream session id is replaced by a fresh CSPRNG
 * handle bound to the user and client that opened it (MCP RS-22: session ids are secure,
 * non-deterministic and bound to the user), so a weak or guessable upstream session id is never
 * exposed, and a handle presented by anyone else is indistinguishable from one that never existed
 * (404). Sessions are only ever named in the `Mcp-Session-Id` header, never in a query string.
 * In memory: a gateway restart ends every session, and clients re-initialize (404 tells them to).
 */
export class SessionBindings {
  readonly #options: SessionBindingsOptions;
  readonly #byId = new Map<string, SessionBinding>();

  constructor(options: SessionBindingsOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#byId.size;
  }

  /**
   * Binds a new upstream session to its opener; undefined when that upstream id is already bound to
   * someone else (RS-23: an upstream with constant or predictable session ids must not put two
   * users in one session).
   */
  open(upstreamId: string, principal: Pick<Principal, 'subject' | 'clientId' | 'scopes'>): SessionBinding | undefined {
    for (const bound of this.#byId.values()) {
      if (bound.upstreamId === upstreamId && (bound.subject !== principal.subject || bound.clientId !== principal.clientId)) return undefined;
    }
    const owned = [...this.#byId.values()].filter((b) => b.subject === principal.subject);
    if (owned.length >= this.#options.maxPerSubject) {
      const oldest = owned.reduce((a, b) => (a.lastUsedAt <= b.lastUsedAt ? a : b));
      this.#drop(oldest);
    }
    const binding: SessionBinding = {
      id: randomId(this.#options.random, 32),
      upstreamId,
      subject: principal.subject,
      clientId: principal.clientId,
      scopes: principal.scopes,
      lastUsedAt: this.#options.clock.now(),
      openStreams: 0,
    };
    this.#byId.set(binding.id, binding);
    return binding;
  }

  /** The caller's live session with this handle, refreshed; undefined for anyone else's, an expired or an unknown one. */
  find(id: string, principal: Pick<Principal, 'subject' | 'clientId' | 'scopes'>): SessionBinding | undefined {
    const binding = this.#byId.get(id);
    if (!binding || binding.subject !== principal.subject || binding.clientId !== principal.clientId) return undefined;
    const now = this.#options.clock.now();
    if (this.#isIdle(binding, now)) {
      this.#drop(binding);
      return undefined;
    }
    binding.lastUsedAt = now;
    binding.scopes = principal.scopes;
    return binding;
  }

  /**
   * A response of `binding` started streaming to the client; call the returned function (once) when
   * it ends. A client that only holds a GET stream open is using its session: it is not swept while
   * the stream lasts, and its idle time counts from the stream's end.
   */
  streamOpened(binding: SessionBinding): () => void {
    binding.openStreams += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      binding.openStreams -= 1;
      binding.lastUsedAt = this.#options.clock.now();
    };
  }

  #isIdle(binding: SessionBinding, now: number): boolean {
    return binding.openStreams === 0 && now - binding.lastUsedAt >= this.#options.idleTtlMs;
  }

  /** Forgets a session the client ended or the upstream no longer knows. */
  forget(id: string): void {
    this.#byId.delete(id);
  }

  /** Ends sessions idle for longer than the TTL; returns how many. */
  sweep(): number {
    const now = this.#options.clock.now();
    const idle = [...this.#byId.values()].filter((b) => this.#isIdle(b, now));
    for (const binding of idle) this.#drop(binding);
    return idle.length;
  }

  /** Ends every session (shutdown). */
  dropAll(): void {
    for (const binding of [...this.#byId.values()]) this.#drop(binding);
  }

  #drop(binding: SessionBinding): void {
    if (this.#byId.delete(binding.id)) this.#options.onDropped(binding);
  }
}
