import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderStartupBanner } from '../../src/bootstrap/banner.ts';
import { loadConfigInput } from '../../src/config/env.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { stytchAuthorizationPage } from '../../src/config/stytch-authorization-page.ts';

/** Seed 1 in one command: which variables turn the Authorization URL page on, and what the start-up output says. */

const SEED_1 = {
  STYTCH_PROJECT_ID: 'project-live-6c20cd16-3f4a-4b4a-9a2c-1d2e3f4a5b6c',
  STYTCH_SECRET: 'secret-live-abcdefghijklmnopqrstuvwxyz0123',
  STYTCH_DOMAIN: 'https://rustic-kilogram-6347.customers.stytch.com',
  STYTCH_PUBLIC_TOKEN: 'public-token-live-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
};
const fromEnv = (env: Record<string, string>) => resolveConfig(loadConfigInput({ PORTCULLIS_PUBLIC_URL: 'https://mcp.example.com', PORTCULLIS_DATABASE: ':memory:', ...env }, undefined));
const banner = (env: Record<string, string>) => renderStartupBanner({ config: fromEnv(env), listening: '127.0.0.1:3000', firstAdmin: null, cli: 'portcullis' });

describe('Stytch Connected Apps: the Authorization URL page setting and banner', () => {
  it('the seed-1 variables turn the page on at /oauth/authorize, with the project domain as issuer', () => {
    const page = stytchAuthorizationPage(fromEnv(SEED_1));
    assert.deepEqual(page && { path: page.path, issuer: page.issuer, projectId: page.projectId }, {
      path: '/oauth/authorize',
      issuer: SEED_1.STYTCH_DOMAIN,
      projectId: SEED_1.STYTCH_PROJECT_ID,
    });
  });

  it('the banner prints the Authorization URL, where to paste it, and the login redirect URL; never the secret', () => {
    const text = banner(SEED_1);
    assert.match(text, /\n {2}Authorization URL {2}https:\/\/mcp\.example\.com\/oauth\/authorize\n/);
    assert.match(text, /Stytch dashboard: Connected Apps → Authorization URL/);
    assert.match(text, /https:\/\/mcp\.example\.com\/oauth\/authorize\/callback\?tx=\{\} under Redirect URLs/);
    assert.ok(!text.includes(SEED_1.STYTCH_SECRET));
  });

  it('the three seed-1 variables alone: the page is on, people sign in with a code Stytch emails them, nothing to register', () => {
    const { STYTCH_PUBLIC_TOKEN: _token, ...three } = SEED_1;
    assert.deepEqual(stytchAuthorizationPage(fromEnv(three))?.signIn, { kind: 'stytch-email' });
    const text = banner(three);
    assert.match(text, /\n {2}Authorization URL {2}https:\/\/mcp\.example\.com\/oauth\/authorize\n {4}paste it in the Stytch dashboard: Connected Apps → Authorization URL\n {4}\(people sign in with a code Stytch emails them\)\n/);
    assert.doesNotMatch(text, /Redirect URLs/);
    const { STYTCH_SECRET: _secret, ...noSecret } = three;
    assert.equal(stytchAuthorizationPage(fromEnv(noSecret)), null);
    assert.match(banner(noSecret), /Authorization URL {2}off: set STYTCH_SECRET to serve/);
    assert.match(banner({ ...noSecret, PORTCULLIS_STYTCH_SIGN_IN: 'stytch-oauth' }), /off: set STYTCH_SECRET and STYTCH_PUBLIC_TOKEN/);
  });

  it('PORTCULLIS_STYTCH_AUTHORIZATION_PAGE=off turns it off; PORTCULLIS_STYTCH_AUTHORIZATION_PATH moves it; other servers never get it', () => {
    assert.equal(stytchAuthorizationPage(fromEnv({ ...SEED_1, PORTCULLIS_STYTCH_AUTHORIZATION_PAGE: 'off' })), null);
    assert.doesNotMatch(banner({ ...SEED_1, PORTCULLIS_STYTCH_AUTHORIZATION_PAGE: 'off' }), /Authorization URL/);
    assert.equal(stytchAuthorizationPage(fromEnv({ ...SEED_1, PORTCULLIS_STYTCH_AUTHORIZATION_PATH: '/consent/stytch' }))?.path, '/consent/stytch');
    assert.equal(stytchAuthorizationPage(fromEnv({ PORTCULLIS_AUTHORIZATION_SERVER: 'https://auth.example.com', STYTCH_SECRET: SEED_1.STYTCH_SECRET, STYTCH_PUBLIC_TOKEN: SEED_1.STYTCH_PUBLIC_TOKEN })), null);
    assert.throws(() => fromEnv({ ...SEED_1, PORTCULLIS_STYTCH_AUTHORIZATION_PATH: 'oauth' }), /stytchAuthorizationPage\.path/);
  });
  it('PORTCULLIS_STYTCH_SIGN_IN=local: Portcullis accounts, a Trusted Auth Token profile instead of the public token, and the profile to set up', () => {
    const { STYTCH_PUBLIC_TOKEN: _token, ...noToken } = SEED_1;
    const local = { ...noToken, PORTCULLIS_STYTCH_SIGN_IN: 'local', PORTCULLIS_STYTCH_TRUSTED_AUTH_PROFILE: 'trusted-auth-token-profile-live-1' };
    assert.deepEqual(stytchAuthorizationPage(fromEnv(local))?.signIn, { kind: 'local', trustedAuthTokenProfileId: 'trusted-auth-token-profile-live-1' });
    const text = banner(local);
    assert.match(text, /Trusted Auth Token profile trusted-auth-token-profile-live-1: issuer https:\/\/mcp\.example\.com, audience https:\/\/mcp\.example\.com\/oauth\/authorize,\n {4}JWKS URL https:\/\/mcp\.example\.com\/jwks/);
    assert.doesNotMatch(text, /Redirect URLs/, 'no Stytch login to register');
    assert.match(banner({ ...noToken, PORTCULLIS_STYTCH_SIGN_IN: 'local' }), /off: set PORTCULLIS_STYTCH_TRUSTED_AUTH_PROFILE to serve/);
    assert.throws(() => fromEnv({ ...local, PORTCULLIS_STYTCH_SIGN_IN: 'google' }), /PORTCULLIS_STYTCH_SIGN_IN: expected stytch-email, stytch-oauth, local, oidc/);
  });
  it('PORTCULLIS_STYTCH_SIGN_IN=oidc: the provider\'s redirect URI to register, and the Trusted Auth Token profile', () => {
    const { STYTCH_PUBLIC_TOKEN: _token, ...noToken } = SEED_1;
    const oidc = { ...noToken, PORTCULLIS_STYTCH_SIGN_IN: 'oidc', PORTCULLIS_STYTCH_TRUSTED_AUTH_PROFILE: 'trusted-auth-token-profile-live-2', OAUTH_ISSUER: 'https://sso.example.com', OAUTH_CLIENT_ID: 'mcp-page', OAUTH_CLIENT_SECRET: 'a-real-client-secret-value-456' };
    assert.equal(stytchAuthorizationPage(fromEnv(oidc))?.signIn.kind, 'oidc');
    const text = banner(oidc);
    assert.match(text, /people sign in at https:\/\/sso\.example\.com: register https:\/\/mcp\.example\.com\/oauth\/authorize\/callback there as a redirect URI for client mcp-page,/);
    assert.match(text, /Trusted Auth Token profile trusted-auth-token-profile-live-2: issuer/);
    assert.ok(!text.includes(oidc.OAUTH_CLIENT_SECRET));
  });
});
