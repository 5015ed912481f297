import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigInput } from '../../src/config/env.ts';
import { ConfigError, resolveConfig } from '../../src/config/resolve.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { isResourceOnly } from '../../src/resource/external.ts';

/** Resource-only mode's settings: what the environment sets, and every refusal naming its setting. */

const base: ConfigInput = { publicUrl: 'https://mcp.example.com', database: ':memory:' };
const AS = 'https://auth.example.com';
const PROJECT_ID = 'project-test-6d5f5c3a-1111-4222-8333-944445555666';

function refusal(input: ConfigInput, pattern: RegExp): void {
  assert.throws(() => resolveConfig({ ...base, ...input }), (error: unknown) => error instanceof ConfigError && pattern.test(error.message), `expected ${pattern}`);
}

describe('resource-only mode: settings from the environment', () => {
  it('PORTCULLIS_AUTHORIZATION_SERVER alone: the jwks verifier, at+jwt, no clock tolerance', () => {
    const config = resolveConfig({ ...base, ...loadConfigInput({ PORTCULLIS_AUTHORIZATION_SERVER: AS }, '') });
    assert.equal(isResourceOnly(config), true);
    assert.deepEqual(config.authorizationServer, { issuer: AS, verifier: 'jwks', clockTolerance: 0, stytchStrictAudience: false, stytchB2b: false });
  });

  it('every variable lands in its setting', () => {
    const input = loadConfigInput(
      {
        PORTCULLIS_AUTHORIZATION_SERVER: AS,
        PORTCULLIS_VERIFIER: 'introspection',
        PORTCULLIS_INTROSPECTION_URL: `${AS}/oauth/introspect`,
        PORTCULLIS_INTROSPECTION_CLIENT_ID: 'mcp-server',
        PORTCULLIS_INTROSPECTION_CLIENT_SECRET: 's3cr3t-from-the-dashboard',
        PORTCULLIS_INTROSPECTION_AUTH_METHOD: 'client_secret_post',
        PORTCULLIS_TOKEN_CLOCK_TOLERANCE: '30',
      },
      '',
    );
    const config = resolveConfig({ ...base, ...input });
    assert.deepEqual(config.authorizationServer?.introspection, {
      endpoint: `${AS}/oauth/introspect`,
      clientId: 'mcp-server',
      clientSecret: 's3cr3t-from-the-dashboard',
      authMethod: 'client_secret_post',
    });
    assert.equal(config.authorizationServer?.clockTolerance, 30);
  });

  it('PORTCULLIS_TOKEN_TYPE is a comma-separated list, or `any` to skip the typ check; PORTCULLIS_TOKEN_ALGORITHMS a list', () => {
    const typed = loadConfigInput({ PORTCULLIS_AUTHORIZATION_SERVER: AS, PORTCULLIS_TOKEN_TYPE: 'at+jwt, JWT', PORTCULLIS_TOKEN_ALGORITHMS: 'RS256,ES256' }, '');
    assert.deepEqual(typed.authorizationServer?.tokenType, ['at+jwt', 'JWT']);
    assert.deepEqual(typed.authorizationServer?.algorithms, ['RS256', 'ES256']);
    assert.equal(loadConfigInput({ PORTCULLIS_TOKEN_TYPE: 'any' }, '').authorizationServer?.tokenType, false);
  });

  it('seed 1: STYTCH_PROJECT_ID + STYTCH_DOMAIN mean the stytch verifier with the project domain as issuer', () => {
    const input = loadConfigInput({ STYTCH_PROJECT_ID: PROJECT_ID, STYTCH_SECRET: 'secret-test-abcdef0123456789', STYTCH_DOMAIN: 'https://rustic-kilogram-6347.customers.stytch.com/' }, '');
    const config = resolveConfig({ ...base, ...input });
    assert.equal(config.authorizationServer?.verifier, 'stytch');
    assert.equal(config.authorizationServer?.issuer, 'https://rustic-kilogram-6347.customers.stytch.com');
    assert.equal(config.identityProvider.kind, 'local', 'the Stytch project settings are shared; no Stytch login is implied');
  });

  it('PORTCULLIS_ twins win over STYTCH_DOMAIN', () => {
    const input = loadConfigInput({ STYTCH_DOMAIN: 'https://login.example.com', PORTCULLIS_AUTHORIZATION_SERVER: AS, PORTCULLIS_VERIFIER: 'jwks' }, '');
    assert.equal(input.authorizationServer?.issuer, AS);
    assert.equal(input.authorizationServer?.verifier, 'jwks');
  });

  it('an unknown verifier or auth method is refused by name', () => {
    assert.throws(() => loadConfigInput({ PORTCULLIS_VERIFIER: 'magic' }, ''), /PORTCULLIS_VERIFIER: expected jwks, introspection or stytch/);
    assert.throws(() => loadConfigInput({ PORTCULLIS_INTROSPECTION_AUTH_METHOD: 'none' }, ''), /PORTCULLIS_INTROSPECTION_AUTH_METHOD/);
    assert.throws(() => loadConfigInput({ PORTCULLIS_TOKEN_CLOCK_TOLERANCE: 'soon' }, ''), /PORTCULLIS_TOKEN_CLOCK_TOLERANCE: expected a whole number/);
  });

  it('PORTCULLIS_RESOURCES is a comma-separated list of other MCP URLs', () => {
    const config = resolveConfig({ ...base, ...loadConfigInput({ PORTCULLIS_RESOURCES: 'https://a.example/mcp, https://b.example/mcp' }, '') });
    assert.deepEqual(config.resources, ['https://a.example/mcp', 'https://b.example/mcp']);
    assert.equal(isResourceOnly(config), false);
  });

  it('without any of them the built-in authorization server is on', () => {
    const config = resolveConfig(base);
    assert.equal(config.authorizationServer, undefined);
    assert.deepEqual(config.resources, []);
    assert.equal(isResourceOnly(config), false);
  });
});

describe('resource-only mode: configuration errors at start name the setting', () => {
  it('a verifier setting without an issuer', () => {
    refusal({ authorizationServer: { verifier: 'jwks' } }, /authorizationServer\.issuer: required .*PORTCULLIS_AUTHORIZATION_SERVER/);
  });

  it('the issuer must be https, except on a loopback host', () => {
    refusal({ authorizationServer: { issuer: 'http://auth.example.com' } }, /authorizationServer\.issuer: http:\/\/auth\.example\.com is plain http on a non-loopback host/);
    assert.doesNotThrow(() => resolveConfig({ ...base, authorizationServer: { issuer: 'http://127.0.0.1:4000' } }));
    assert.doesNotThrow(() => resolveConfig({ ...base, authorizationServer: { issuer: 'http://localhost:4000/realms/dev' } }));
  });

  it('RFC 8414 §2: the issuer has no query or fragment', () => {
    refusal({ authorizationServer: { issuer: `${AS}?tenant=1` } }, /no query or fragment/);
    refusal({ authorizationServer: { issuer: `${AS}#x` } }, /no query or fragment/);
  });

  it('the issuer cannot be this server itself: its authorization server is off', () => {
    refusal({ authorizationServer: { issuer: 'https://mcp.example.com' } }, /is this server itself/);
  });

  it('the introspection verifier needs this server\'s client credentials (RFC 7662 §2.1)', () => {
    refusal({ authorizationServer: { issuer: AS, verifier: 'introspection' } }, /introspection\.clientId: required .*PORTCULLIS_INTROSPECTION_CLIENT_ID/);
    refusal({ authorizationServer: { issuer: AS, verifier: 'introspection', introspection: { clientId: 'rs' } } }, /introspection\.clientSecret: required .*PORTCULLIS_INTROSPECTION_CLIENT_SECRET/);
    refusal({ authorizationServer: { issuer: AS, verifier: 'introspection', introspection: { clientId: 'rs', clientSecret: 'your-secret-key' } } }, /placeholder/);
    refusal(
      { authorizationServer: { issuer: AS, verifier: 'introspection', introspection: { clientId: 'rs', clientSecret: 'x9f2k', endpoint: 'http://auth.example.com/introspect' } } },
      /introspection\.endpoint: .* must be https/,
    );
  });

  it('the stytch verifier needs the project id, and an https project domain', () => {
    refusal({ authorizationServer: { issuer: AS, verifier: 'stytch' } }, /identityProvider\.stytch\.projectId: required by the stytch verifier.*STYTCH_PROJECT_ID/);
    refusal({ authorizationServer: { issuer: AS, verifier: 'stytch' }, identityProvider: { stytch: { projectId: 'my-project' } } }, /does not look like a Stytch project id/);
    refusal({ authorizationServer: { issuer: 'http://127.0.0.1:9000', verifier: 'stytch' }, identityProvider: { stytch: { projectId: PROJECT_ID } } }, /must be https: it is your Stytch project domain/);
    assert.doesNotThrow(() => resolveConfig({ ...base, authorizationServer: { issuer: AS, verifier: 'stytch' }, identityProvider: { stytch: { projectId: PROJECT_ID } } }));
  });

  it('settings of one verifier given to another are refused rather than ignored', () => {
    refusal({ authorizationServer: { issuer: AS, verifier: 'stytch', jwksUrl: `${AS}/jwks` }, identityProvider: { stytch: { projectId: PROJECT_ID } } }, /authorizationServer\.jwksUrl: only used by the jwks verifier/);
    refusal({ authorizationServer: { issuer: AS, introspection: { clientId: 'rs', clientSecret: 'x9f2k' } } }, /authorizationServer\.introspection: only used by the introspection verifier/);
    refusal({ authorizationServer: { issuer: AS, stytchStrictAudience: true } }, /stytchStrictAudience: only used by the stytch verifier/);
  });

  it('RFC 8725 §3.1: only asymmetric algorithms; the JWKS URL must be https', () => {
    refusal({ authorizationServer: { issuer: AS, algorithms: ['HS256'] } }, /algorithms: HS256 is not allowed/);
    refusal({ authorizationServer: { issuer: AS, algorithms: ['none'] } }, /algorithms: none is not allowed/);
    refusal({ authorizationServer: { issuer: AS, jwksUrl: 'http://keys.example.com/jwks' } }, /jwksUrl: .* must be https/);
  });

  it('an upstream identity provider makes no sense without the built-in authorization server', () => {
    refusal(
      { authorizationServer: { issuer: AS }, identityProvider: { kind: 'oidc', oidc: { issuer: 'https://idp.example.com', clientId: 'portcullis' } } },
      /identityProvider\.kind: oidc signs users in to the built-in authorization server, which is off in resource-only mode/,
    );
  });

  it('resources (tokens for other servers) need the built-in authorization server', () => {
    refusal({ authorizationServer: { issuer: AS }, resources: ['https://other.example/mcp'] }, /resources: .*off in resource-only mode/);
  });

  it('RFC 8707 §2: resources are absolute https URLs without a fragment', () => {
    refusal({ resources: ['https://other.example/mcp#frag'] }, /resources: .* must have no fragment/);
    refusal({ resources: ['http://other.example/mcp'] }, /resources: .* plain http on a non-loopback host/);
    refusal({ resources: ['not a url'] }, /Invalid setting resources\.0/);
    assert.doesNotThrow(() => resolveConfig({ ...base, resources: ['http://127.0.0.1:4001/mcp'] }));
  });
});
