import { errorPage } from '../authorization/authorize/pages.ts';
import { VerifierUnavailableError } from '../resource/types.ts';
import type { PageContext } from './sign-in.ts';
import { StytchApiError } from './stytch-idp.ts';

/** Calls Stytch; a failure becomes its page (`stytchFailurePage`). */
export async function askStytch<T>(page: PageContext, call: () => Promise<T>): Promise<T | Response> {
  try {
    return await call();
  } catch (error) {
    const failure = stytchFailurePage(page, error);
    if (failure) return failure;
    throw error;
  }
}

/**
 * The page for a failed Stytch call, or null when `error` is not one: Stytch's refusal of the request
 * is an error page with its message; its refusal of our credentials a 502 page (the operator's
 * problem, logged as an error); Stytch unreachable a 503 page. Never a 500.
 */
export function stytchFailurePage(page: Pick<PageContext, 'ctx'>, error: unknown): Response | null {
  const { ctx } = page;
  if (error instanceof StytchApiError && error.status === 401) {
    // Not the client's mistake nor the person's: this server's project id or secret is wrong.
    ctx.logger.error('stytch refused the project credentials (STYTCH_PROJECT_ID, STYTCH_SECRET)', { error_type: error.errorType });
    return errorPage(ctx, { title: 'This server is not set up correctly', message: 'The sign-in service refused this server\'s credentials. Please tell the server\'s administrator.' }, 502);
  }
  if (error instanceof StytchApiError) {
    ctx.logger.info('stytch refused an authorization request', { error_type: error.errorType, status_code: error.status });
    return errorPage(
      ctx,
      { title: 'This sign-in link is not valid', message: error.errorMessage || 'The authorization server refused this request.', detail: `error_type: ${error.errorType}` },
      error.status === 404 || error.status === 403 ? error.status : 400,
    );
  }
  if (error instanceof VerifierUnavailableError) {
    ctx.logger.warn('stytch unavailable', { detail: error.message });
    return errorPage(ctx, { title: 'Please try again in a moment', message: 'The sign-in service is not reachable right now.' }, 503);
  }
  return null;
}
