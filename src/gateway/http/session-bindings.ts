import { SessionTable, type OwnedSession, type SessionTableOptions } from '../../mcp/session-table.ts';
import type { Principal } from '../../resource/guard.ts';
import { randomId, type RandomBytes } from '../../util/crypto.ts';

/**
 * One upstream MCP session as the gateway hands it out. Each upstream session id is replaced by a
 * fresh CSPRNG handle bound to the user and client that opened it (MCP RS-22: session ids are
 * secure, non-deterministic and bound to the user), so a weak or guessable upstream session id is
 * never exposed, and a handle presented by anyone else is indistinguishable from one that never
 * existed (404). Sessions are only ever named in the `Mcp-Session-Id` header, never in a query
 * string. Ownership, the per-user cap and idle expiry are the shared session table's.
 */
export interface SessionBinding extends OwnedSession {
  /** The upstream's own session id; never shown to the client. */
  readonly upstreamId: string;
  /** The caller's identity as of the last request, for the DELETE sent when the session expires. */
  scopes: readonly string[];
}

/**
 * Binds a new upstream session to its opener; undefined when that upstream id is already bound to
 * someone else (RS-23: an upstream with constant or predictable session ids must not put two users
 * in one session).
 */
export function bindUpstreamSession(
  table: SessionTable<SessionBinding>,
  upstreamId: string,
  principal: Pick<Principal, 'subject' | 'clientId' | 'scopes'>,
  random: RandomBytes,
  now: number,
): SessionBinding | undefined {
  for (const bound of table.values()) {
    if (bound.upstreamId === upstreamId && (bound.subject !== principal.subject || bound.clientId !== principal.clientId)) return undefined;
  }
  const binding: SessionBinding = {
    id: randomId(random, 32),
    upstreamId,
    subject: principal.subject,
    clientId: principal.clientId,
    scopes: principal.scopes,
    lastUsedAt: now,
    openStreams: 0,
  };
  table.add(binding);
  return binding;
}

/**
 * Where the gateway keeps its upstream sessions: a table in this process's memory (Node), or nowhere
 * but in the handles themselves (Workers: ./sealed-sessions.ts). The relay (./upstream.ts) asks only this.
 */
export interface GatewaySessions {
  /** The caller's live session with this handle; undefined for an unknown one or someone else's (RS-23). */
  find(handle: string, principal: Pick<Principal, 'subject' | 'clientId' | 'scopes'>): SessionBinding | undefined | Promise<SessionBinding | undefined>;
  /** A new session for its opener; undefined when that upstream id is already someone else's (RS-23). */
  bind(upstreamId: string, principal: Pick<Principal, 'subject' | 'clientId' | 'scopes'>): SessionBinding | undefined | Promise<SessionBinding | undefined>;
  forget(id: string): void;
  /**
   * Holds a slot for a session a caller without a token is opening: the function that frees it once
   * the session is bound (or was not opened), or undefined when all are taken (503, nobody evicted).
   */
  reserveAnonymous(): (() => void) | undefined;
  streamOpened(session: SessionBinding): () => void;
  sweep(): Promise<number>;
  close(): Promise<void>;
  readonly size: number;
}

/** The sessions of one process, in the shared session table (ownership, per-user cap, idle expiry). */
export function memorySessions(options: SessionTableOptions<SessionBinding>, random: RandomBytes): GatewaySessions {
  const table = new SessionTable<SessionBinding>(options);
  return {
    find: (handle, principal) => table.find(handle, principal),
    bind: (upstreamId, principal) => bindUpstreamSession(table, upstreamId, principal, random, options.clock.now()),
    forget: (id) => table.forget(id),
    reserveAnonymous: () => table.reserveAnonymous(),
    streamOpened: (session) => table.streamOpened(session),
    sweep: () => table.sweep(),
    close: () => table.close(),
    get size() {
      return table.size;
    },
  };
}
