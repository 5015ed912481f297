import type { JWK } from 'jose';
import type { Portcullis } from '../../src/portcullis.ts';
import type { StytchProject } from '../fixtures/stytch/project.ts';
import type { StytchProjectFixture } from '../fixtures/stytch/stytch-project.ts';
import { createPkcePair } from '../helpers/oauth-flow.ts';

/** What every test of the Stytch Authorization URL page shares: where the page is, and its client. */
export const ORIGIN = 'http://localhost:3000';
export const PAGE = `${ORIGIN}/oauth/authorize`;
export const REDIRECT = 'http://127.0.0.1:53682/callback';

/** Registers the client the tests authorize (Dynamic Client Registration at the Stytch fixture); returns its id. */
export async function registerPageClient(stytch: StytchProjectFixture, project: StytchProject): Promise<string> {
  const registered = await stytch.app.fetch(
    new Request(`${project.baseUrl}/v1/oauth2/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ client_name: 'Notes Desktop', redirect_uris: [REDIRECT] }) }),
  );
  return ((await registered.json()) as { client_id: string }).client_id;
}

/** The link Stytch sends a client's browser to: the page with the client's authorization request. */
export function pageAuthorizeUrl(clientId: string, params: Record<string, string>): string {
  const url = new URL(PAGE);
  url.search = new URLSearchParams({ client_id: clientId, redirect_uri: REDIRECT, scope: 'openid read:tasks', code_challenge: createPkcePair().challenge, code_challenge_method: 'S256', ...params }).toString();
  return url.href;
}

/** The dashboard step of Trusted Auth Tokens: a profile naming this server as issuer, with the keys it publishes. */
export async function addTrustedAuthTokenProfile(stytch: StytchProjectFixture, portcullis: Portcullis, profileId: string): Promise<void> {
  const jwks = (await (await portcullis.app.fetch(new Request(`${ORIGIN}/jwks`))).json()) as { keys: JWK[] };
  stytch.login.sessions.addTrustedAuthTokenProfile({ profile_id: profileId, issuer: ORIGIN, audience: PAGE, keys: jwks.keys, idClaim: 'sub', emailClaim: 'email' });
}
