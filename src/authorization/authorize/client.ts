import { OAuthError } from '../../errors/oauth-error.ts';
import type { AppContext } from '../../context.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { resolveClient } from '../clients/resolve-client.ts';
import type { RequestParams } from './params.ts';
import { StaleRegistrationError } from './stale-registration.ts';

/**
 * Phase 1, step 1: the client must be known before anything can be sent to it. Every failure here is
 * shown on our own error page, never redirected (OAuth 2.1 §4.1.2.1, SEC-06).
 */
export async function checkClient(ctx: AppContext, params: RequestParams): Promise<ClientRecord> {
  const clientId = params.one('client_id');
  if (!clientId) throw new OAuthError('invalid_request', 'The request does not say which application is asking (client_id is missing).');
  // A registered client, or one identified by its metadata document URL (AS-08).
  const client = await resolveClient(ctx, clientId);
  if (!client) {
    throw new StaleRegistrationError('unknown_client', 'This application is not registered with this server.', {
      clientId,
      detail: `unknown client_id ${clientId.slice(0, 100)}`,
    });
  }
  return client;
}
