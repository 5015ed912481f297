import type { Hono } from 'hono';
import { OAuthError } from '../errors/oauth-error.ts';
import { NO_STORE } from '../errors/render.ts';
import type { AppContext } from '../context.ts';
import { clientAddress, type RateLimiter } from '../http/rate-limit.ts';
import { requestNotes } from '../http/request-log.ts';
import type { ClientRecord, TokenEndpointAuthMethod } from '../storage/types.ts';
import { authenticateClient } from './clients/authenticate.ts';
import { readForm } from './form-body.ts';
import { parseForm, type FormParams } from './form.ts';

/** An authenticated back-channel request, as an endpoint's `answer` sees it. */
export interface BackChannelRequest {
  client: ClientRecord;
  method: TokenEndpointAuthMethod;
  form: FormParams;
  /** The request's headers (the token endpoint reads `DPoP`). */
  headers: Headers;
  /** Headers to send with the `200` answer (the token endpoint's `DPoP-Nonce`). */
  responseHeaders: Headers;
}

/** What a back-channel endpoint declares; the pipeline does the rest. */
export interface BackChannelEndpoint {
  path: string;
  /** The client authentication methods it accepts: those `ctx.capabilities` advertises for it. */
  authMethods: readonly string[];
  /** Per-address request limit, checked before anything is read (the token endpoint's, SEC-48). */
  rateLimit?: RateLimiter;
  /** The JSON body of the `200` answer, or null for an empty one. Refusals are thrown as `OAuthError`. */
  answer(request: BackChannelRequest): Promise<object | null>;
}

/**
 * The one pipeline of the token, revocation and introspection endpoints (OAuth 2.1 §3.2, RFC 7009,
 * RFC 7662): `POST` only (405 with `Allow: POST` otherwise: credentials never travel in a URL), the
 * shared form reader with OAuth 2.1 §3.2 parameter rules (SEC-27: a repeated parameter is refused,
 * an empty one is absent), client authentication (SEC-28), then the endpoint's answer. Every
 * response, success or error, carries `Cache-Control: no-store` (SEC-31); errors are thrown and
 * rendered by the app's one error renderer.
 */
export function mountBackChannel(app: Hono, ctx: AppContext, endpoint: BackChannelEndpoint): void {
  app.all(endpoint.path, async (c) => {
    const request = c.req.raw;
    if (request.method !== 'POST') {
      throw new OAuthError('invalid_request', 'This endpoint accepts only POST.', { status: 405, headers: { Allow: 'POST' } });
    }
    const address = clientAddress(c);
    const limited = await endpoint.rateLimit?.take(address);
    if (limited && !limited.ok) {
      throw new OAuthError('rate_limited', 'Too many requests. Try again later.', { headers: { 'Retry-After': String(limited.retryAfterSeconds) } });
    }
    const form = parseForm(await readForm(request));
    const notes = requestNotes(c);
    // The client it claims to be, on the request's log line even when authentication fails.
    const claimed = form.get('client_id');
    if (claimed !== undefined) notes.clientId = claimed;
    const { client, method } = await authenticateClient(ctx, request, form, { methods: endpoint.authMethods, address });
    notes.clientId = client.clientId;
    const responseHeaders = new Headers(NO_STORE);
    const body = await endpoint.answer({ client, method, form, headers: request.headers, responseHeaders });
    const headers = Object.fromEntries(responseHeaders);
    return body === null ? c.body(null, 200, headers) : c.json(body, 200, headers);
  });
}
