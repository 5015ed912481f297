import type { Hono } from 'hono';
import { OAuthError } from '../../errors/oauth-error.ts';
import { NO_STORE } from '../../errors/render.ts';
import { decodeText, readCappedBody } from '../../http/capped-body.ts';
import type { AppContext } from '../../context.ts';
import { clientAddress, createRateLimiter, rateLimit } from '../../http/rate-limit.ts';
import { requestNotes } from '../../http/request-log.ts';
import { registrationCap } from '../clients/client-expiry.ts';
import { clientInformationResponse, registerClient, validateClientMetadata } from '../clients/register-client.ts';

export interface RegistrationOptions {
  /** Overrides `registration.maxClients` (tests). */
  maxDynamicClients?: number;
}
/** A registration request is a few hundred bytes; 64 KiB leaves room for long URI lists and no more. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * `POST /register`: Dynamic Client Registration (RFC 7591 §3; MCP AS-05). Open registration, so it is
 * rate-limited per client address (SEC-48) and capped in total (client-expiry.ts); identical public registrations
 * reuse one client. When registration is disabled the route does not exist (404) and the metadata
 * does not advertise it.
 */
export function mountRegistration(app: Hono, ctx: AppContext, options: RegistrationOptions = {}): void {
  if (!ctx.capabilities.endpoints.registration) return;
  const limiter = createRateLimiter({ name: 'register', perMinute: ctx.config.registration.perMinute, storage: ctx.storage, clock: ctx.clock, metrics: ctx.metrics });

  app.post(
    '/register',
    rateLimit(limiter),
    async (c) => {
      const read = await readCappedBody(c.req.raw, MAX_BODY_BYTES);
      if (!read.ok) throw new OAuthError('invalid_client_metadata', 'The registration request is too large.', { status: 413 });
      const metadata = validateClientMetadata(parseJson(decodeText(read.bytes)), ctx.capabilities);
      const cap = registrationCap(ctx.config, ctx.clock.now());
      if (options.maxDynamicClients !== undefined) cap.max = options.maxDynamicClients;
      const { client, clientSecret, reused } = await registerClient(ctx, metadata, { source: 'dcr', cap });
      requestNotes(c).clientId = client.clientId;
      ctx.logger.audit('client.registered', {
        client_id: client.clientId,
        client_name: client.clientName,
        token_endpoint_auth_method: client.tokenEndpointAuthMethod,
        redirect_uris: client.redirectUris,
        reused,
        address: clientAddress(c),
      });
      // RFC 7591 §3.2.1: 201 Created, also for a reused registration (the client sees a normal success).
      // The response can carry a client secret: never cached (RFC 7591 §3.2.1 via RFC 6749 §5.1).
      return c.json(clientInformationResponse(client, clientSecret), 201, { ...NO_STORE });
    },
  );
}

/** The parsed body, or undefined when it is not JSON (which the metadata check then refuses). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
