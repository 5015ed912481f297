import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigInput } from '../../src/config/env.ts';
import { ConfigError, resolveConfig } from '../../src/config/resolve.ts';
import { createIdentityProvider } from '../../src/identity/providers/index.ts';

const fromEnv = (env: Record<string, string>) => resolveConfig(loadConfigInput(env, undefined));

function refused(env: Record<string, string>, message: RegExp): void {
  assert.throws(
    () => fromEnv(env),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
      assert.match(e.message, message);
      return true;
    },
  );
}

const STYTCH = { STYTCH_PROJECT_ID: 'project-test-6c20cd16-3f4a-4b4a-9a2c-1d2e3f4a5b6c', STYTCH_SECRET: 'secret-test-abcdefghijklmnopqrstuvwxyz0123', STYTCH_PUBLIC_TOKEN: 'public-token-test-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0' };

describe('identityProvider settings', () => {
  it('local accounts by default', () => {
    assert.equal(fromEnv({}).identityProvider.kind, 'local');
    assert.equal(createIdentityProvider(fromEnv({})).kind, 'local');
  });

  it('seed 2 variable names work as they are: IDENTITY_PROVIDER=stytch and the STYTCH_* variables', () => {
    const c = fromEnv({ IDENTITY_PROVIDER: 'stytch', ...STYTCH, STYTCH_API_URL: 'https://test.stytch.com/v1/', STYTCH_OAUTH_URL: 'https://test.stytch.com/v1/public/oauth/google/start' });
    assert.deepEqual(c.identityProvider, {
      kind: 'stytch',
      stytch: {
        projectId: STYTCH.STYTCH_PROJECT_ID,
        secret: STYTCH.STYTCH_SECRET,
        publicToken: STYTCH.STYTCH_PUBLIC_TOKEN,
        apiUrl: 'https://test.stytch.com/v1',
        oauthStartUrl: 'https://test.stytch.com/v1/public/oauth/google/start',
      },
    });
    assert.equal(createIdentityProvider(c).kind, 'stytch');
  });

  it('seed 2 STYTCH_PROJECT_SECRET is accepted for the secret; STYTCH_SECRET wins when both are set', () => {
    const { STYTCH_SECRET: _, ...rest } = STYTCH;
    assert.equal(fromEnv({ IDENTITY_PROVIDER: 'stytch', ...rest, STYTCH_PROJECT_SECRET: 'secret-test-from-the-alias-000000' }).identityProvider.stytch?.secret, 'secret-test-from-the-alias-000000');
    assert.equal(fromEnv({ IDENTITY_PROVIDER: 'stytch', ...STYTCH, STYTCH_PROJECT_SECRET: 'secret-test-from-the-alias-000000' }).identityProvider.stytch?.secret, STYTCH.STYTCH_SECRET);
  });

  it('seed 2 IDENTITY_PROVIDER=oauth with OAUTH_* means an OpenID Connect provider; PORTCULLIS_ names win over the seed names', () => {
    const c = fromEnv({
      IDENTITY_PROVIDER: 'oauth',
      OAUTH_ISSUER: 'https://accounts.example.com',
      OAUTH_CLIENT_ID: 'seed-client',
      PORTCULLIS_OIDC_CLIENT_ID: 'portcullis-client',
      OAUTH_CLIENT_SECRET: 'a-real-client-secret-value-123',
      OAUTH_SCOPES: 'openid email',
    });
    assert.equal(c.identityProvider.kind, 'oidc');
    assert.deepEqual(c.identityProvider.oidc, { issuer: 'https://accounts.example.com', clientId: 'portcullis-client', clientSecret: 'a-real-client-secret-value-123', scopes: ['openid', 'email'] });
    assert.equal(createIdentityProvider(c).kind, 'oidc');
  });

  it('an unknown provider kind is refused, naming the variable', () => {
    refused({ PORTCULLIS_IDP: 'saml' }, /PORTCULLIS_IDP: expected local, oidc or stytch, got "saml"/);
  });

  it('settings of an unused provider never stop a start', () => {
    assert.equal(fromEnv({ STYTCH_PROJECT_ID: 'project-test-x' }).identityProvider.kind, 'local');
  });

  it('what the chosen provider needs is required, naming the setting and its variable', () => {
    refused({ PORTCULLIS_IDP: 'oidc' }, /identityProvider\.oidc\.issuer: required .*PORTCULLIS_OIDC_ISSUER/);
    refused({ PORTCULLIS_IDP: 'oidc', PORTCULLIS_OIDC_ISSUER: 'https://idp.example' }, /identityProvider\.oidc\.clientId: required/);
    refused({ PORTCULLIS_IDP: 'stytch', STYTCH_PROJECT_ID: STYTCH.STYTCH_PROJECT_ID }, /identityProvider\.stytch\.secret: required .*STYTCH_SECRET/);
    refused({ PORTCULLIS_IDP: 'oidc', PORTCULLIS_OIDC_ISSUER: 'https://idp.example', PORTCULLIS_OIDC_CLIENT_ID: 'c', PORTCULLIS_OIDC_SCOPES: 'email profile' }, /must include openid/);
    refused({ PORTCULLIS_IDP: 'oidc', PORTCULLIS_OIDC_ISSUER: 'https://idp.example', PORTCULLIS_OIDC_CLIENT_ID: 'c', PORTCULLIS_OIDC_TOKEN_URL: 'https://idp.example/token' }, /together/);
  });

  it('seed 2 §2.7(5) placeholder secrets copied from the setup guide are refused at start', () => {
    refused({ PORTCULLIS_IDP: 'stytch', ...STYTCH, STYTCH_SECRET: 'your-secret-key' }, /identityProvider\.stytch\.secret: "your-secret-key" is a placeholder/);
    refused({ PORTCULLIS_IDP: 'stytch', ...STYTCH, STYTCH_PROJECT_ID: 'your-project-id' }, /placeholder/);
    refused({ PORTCULLIS_IDP: 'stytch', ...STYTCH, STYTCH_PUBLIC_TOKEN: 'your-public-token' }, /placeholder/);
    refused({ PORTCULLIS_IDP: 'oidc', OAUTH_ISSUER: 'https://idp.example', OAUTH_CLIENT_ID: 'c', OAUTH_CLIENT_SECRET: 'replace-with-a-strong-secret-key' }, /placeholder/);
    refused({ PORTCULLIS_IDP: 'oidc', OAUTH_ISSUER: 'https://idp.example', OAUTH_CLIENT_ID: 'c', OAUTH_CLIENT_SECRET: '<client secret>' }, /placeholder/);
  });

  it('seed 2 a live project pointed at the test API (or the reverse) is refused at start', () => {
    refused({ PORTCULLIS_IDP: 'stytch', ...STYTCH, STYTCH_API_URL: 'https://api.stytch.com/v1' }, /live API but project-test-.* is a test project/);
    refused({ PORTCULLIS_IDP: 'stytch', ...STYTCH, STYTCH_PROJECT_ID: 'project-live-1', STYTCH_API_URL: 'https://test.stytch.com/v1' }, /test API but project-live-1 is a live project/);
  });

  it('SEC-01 provider URLs must be https, except on a loopback host', () => {
    refused({ PORTCULLIS_IDP: 'oidc', PORTCULLIS_OIDC_ISSUER: 'http://idp.example', PORTCULLIS_OIDC_CLIENT_ID: 'c' }, /oidc\.issuer: http:\/\/idp\.example must be https/);
    refused({ PORTCULLIS_IDP: 'stytch', ...STYTCH, STYTCH_API_URL: 'http://stytch.example/v1' }, /stytch\.apiUrl: .* must be https/);
    assert.equal(fromEnv({ PORTCULLIS_IDP: 'oidc', PORTCULLIS_OIDC_ISSUER: 'http://127.0.0.1:9000', PORTCULLIS_OIDC_CLIENT_ID: 'c' }).identityProvider.kind, 'oidc');
  });
});
