import type { Logger } from '../log/logger.ts';
import { NO_STORE } from '../util/no-store.ts';
import { OAuthError } from './oauth-error.ts';

/** Defined with the library (src/util/no-store.ts), which must not import this file; the app's endpoints take it from here. */
export { NO_STORE };

/**
 * The one place an error becomes a JSON response. Unknown exceptions are bugs: they become a
 * generic `500 server_error` and a log line, never a 400 and never their message on the wire.
 */
export function renderErrorJson(error: unknown, logger: Logger, context: Record<string, unknown> = {}, request?: Request): Response {
  const oauth = toOAuthError(error, logger, context, request);
  return Response.json(
    { error: oauth.code, error_description: oauth.description },
    { status: oauth.status, headers: { ...NO_STORE, ...oauth.headers } },
  );
}

export function toOAuthError(error: unknown, logger: Logger, context: Record<string, unknown> = {}, request?: Request): OAuthError {
  if (error instanceof OAuthError) {
    if (error.detail || error.status >= 500) logger.warn('oauth error', { ...context, error_code: error.code, detail: error.detail });
    return error;
  }
  logUnexpectedError(error, logger, context, request);
  return new OAuthError('server_error', 'The server could not complete the request.');
}

/**
 * Logs an exception no handler expected. A client that hung up mid-request (its body cut short, the
 * response with nobody to read it) is no fault of the server and anyone can cause it at will: one
 * info line without a stack, so it cannot flood the error log. Everything else is a bug: an error
 * with its stack.
 */
export function logUnexpectedError(error: unknown, logger: Logger, context: Record<string, unknown>, request?: Request): void {
  if (request?.signal.aborted) logger.info('request aborted by the client', context);
  else logger.error('unhandled error', { ...context, error });
}
