import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { AppContext } from '../../context.ts';
import { serverMac } from '../../identity/csrf.ts';
import type { Principal } from '../../resource/guard.ts';
import type { GatewaySessions, SessionBinding } from './session-bindings.ts';

/**
 * Upstream sessions on Workers, where the isolate that opened a session is rarely the one that gets
 * its next request: the binding travels in the handle itself. The handle the client gets is the
 * upstream's session id, the subject and client that opened it and when, encrypted and authenticated
 * (AES-256-GCM under a key derived from the server key shared through storage), so any isolate can
 * open it, nobody can read the upstream's id in it or make one for another session (RS-22), and a
 * handle presented by another user or client opens to nothing (404, RS-23). Fresh random IV: the same
 * session never yields the same handle twice.
 *
 * What a table in memory does and this cannot: end a session idle for `mcpSessionIdleTtl` (the
 * upstream's own idle expiry does; a handle lives at most `MAX_AGE_MS`), cap a user's sessions, or
 * notice an upstream that gives two users one session id (README "Deploy on Cloudflare Workers"). Nor
 * cap the sessions opened without a token (public tools): only the endpoint's rate limit on their
 * `initialize` per address bounds them (docs/tool-policy.md).
 */

const KEY_DOMAIN = 'gateway-session-key-v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A handle is refused after this long, used or not: a day covers any working session. */
export const MAX_AGE_MS = 24 * 3600_000;
/** Far above any handle this makes (an upstream id of up to ~700 characters); longer ones are not opened. */
const MAX_HANDLE_LENGTH = 1024;
const HANDLE = /^[A-Za-z0-9_-]+$/;

type Sealed = [upstreamId: string, subject: string, clientId: string, openedAt: number];

export function sealedSessions(ctx: Pick<AppContext, 'config' | 'secrets' | 'clock' | 'logger' | 'random'>): GatewaySessions {
  let key: Promise<Buffer> | undefined;
  // The AES key: an HMAC of a fixed label under the server key, so it needs no secret of its own.
  const aesKey = (): Promise<Buffer> => (key ??= serverMac(ctx, KEY_DOMAIN, '').then((mac) => Buffer.from(mac, 'base64url')));

  const binding = (id: string, upstreamId: string, principal: Pick<Principal, 'subject' | 'clientId' | 'scopes'>): SessionBinding => ({
    id,
    upstreamId,
    subject: principal.subject,
    clientId: principal.clientId,
    scopes: principal.scopes,
    lastUsedAt: ctx.clock.now(),
    openStreams: 0,
  });

  return {
    async find(handle, principal) {
      if (handle.length > MAX_HANDLE_LENGTH || !HANDLE.test(handle)) return undefined;
      const sealed = await open(await aesKey(), handle);
      if (!sealed) return undefined;
      const [upstreamId, subject, clientId, openedAt] = sealed;
      if (subject !== principal.subject || clientId !== principal.clientId) {
        ctx.logger.warn('mcp session presented by another principal', { subject: principal.subject, client_id: principal.clientId });
        return undefined;
      }
      if (ctx.clock.now() - openedAt >= MAX_AGE_MS) return undefined;
      return binding(handle, upstreamId, principal);
    },
    async bind(upstreamId, principal) {
      const sealed: Sealed = [upstreamId, principal.subject, principal.clientId, ctx.clock.now()];
      return binding(seal(await aesKey(), ctx.random(IV_BYTES), sealed), upstreamId, principal);
    },
    // Nothing is kept, so there is nothing to forget, sweep or close: the upstream ends its sessions.
    forget: () => {},
    // No table, no count: sessions without a token are not capped here (the rate limit on opening them still is).
    reserveAnonymous: () => () => {},
    streamOpened: () => () => {},
    sweep: async () => 0,
    close: async () => {},
    size: 0,
  };
}

function seal(key: Buffer, iv: Uint8Array, value: Sealed): string {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

async function open(key: Buffer, handle: string): Promise<Sealed | null> {
  const bytes = Buffer.from(handle, 'base64url');
  if (bytes.length <= IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const text = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) && value.length === 4 && value.slice(0, 3).every((v) => typeof v === 'string') && typeof value[3] === 'number' ? (value as Sealed) : null;
  } catch {
    // Altered, truncated or made under another key: no session.
    return null;
  }
}
