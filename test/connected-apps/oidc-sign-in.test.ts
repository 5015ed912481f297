/**
 * The Authorization URL page with `signIn: oidc`: the person signs in at an OpenID Connect provider
 * (panva's oidc-provider on a loopback socket), the identity is linked to a Portcullis user, this
 * server vouches for that user to Stytch with a Trusted Auth Token, and consent goes on as usual.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/resolve.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { systemClock } from '../../src/util/clock.ts';
import { signInAtProvider, startOidcProvider, type OidcProviderFixture } from '../fixtures/oidc-provider.ts';
import { createStytchProject, type StytchProject } from '../fixtures/stytch/project.ts';
import { createStytchProjectFixture, type StytchProjectFixture } from '../fixtures/stytch/stytch-project.ts';
import { ORIGIN, PAGE, REDIRECT, addTrustedAuthTokenProfile, pageAuthorizeUrl, registerPageClient } from './page-harness.ts';
import { browserFetch, cookieJar, formData, parseForms, type FetchLike } from '../helpers/oauth-flow.ts';

const PROFILE = 'trusted-auth-token-profile-test-oidc';
const RP = { clientId: 'portcullis-page', clientSecret: 'page-secret-7c1e9a3b5d2f4a6c8e0b1d3f5a7c9e1b' };

describe('the Stytch Authorization URL page with an OpenID Connect provider attested to Stytch', () => {
  let idp: OidcProviderFixture;
  let project: StytchProject;
  let stytch: StytchProjectFixture;
  let portcullis: Portcullis;
  let logger: ReturnType<typeof createMemoryLogger>;
  let clientId = '';
  /** Stytch's host in process; every other origin (the OIDC provider) over its socket. */
  const outbound: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    return new URL(request.url).origin === project.baseUrl ? stytch.app.fetch(request) : fetch(request);
  };

  before(async () => {
    idp = await startOidcProvider({
      accounts: [{ sub: 'ada-0001', email: 'ada@example.com', email_verified: true, name: 'Ada' }],
      clients: [{ client_id: RP.clientId, client_secret: RP.clientSecret, redirect_uris: [`${PAGE}/callback`], grant_types: ['authorization_code'], response_types: ['code'] }],
    });
    project = createStytchProject('https://stytch.fixture.test');
    stytch = await createStytchProjectFixture({ project, clock: systemClock, redirectUrls: [] });
    stytch.connectedApps.setAuthorizationUrl(PAGE);
    logger = createMemoryLogger();
    portcullis = await createPortcullis({
      config: resolveConfig({
        publicUrl: ORIGIN,
        database: ':memory:',
        authorizationServer: { issuer: project.baseUrl, verifier: 'stytch' },
        identityProvider: {
          kind: 'local',
          displayName: 'Example SSO',
          oidc: { issuer: idp.issuer, clientId: RP.clientId, clientSecret: RP.clientSecret },
          stytch: { projectId: project.projectId, secret: project.secret, apiUrl: `${project.baseUrl}/v1` },
        },
        stytchAuthorizationPage: { signIn: 'oidc', trustedAuthTokenProfileId: PROFILE },
      }),
      storage: await openSqliteStorage(':memory:'),
      logger,
      fetch: outbound,
    });
    await addTrustedAuthTokenProfile(stytch, portcullis, PROFILE);
    clientId = await registerPageClient(stytch, project);
  });
  after(async () => {
    await portcullis?.close();
    await idp?.close();
  });

  const newBrowser = (): FetchLike =>
    browserFetch(async (input, init) => {
      const request = new Request(input, init);
      return new URL(request.url).origin === ORIGIN ? portcullis.app.fetch(request) : outbound(request);
    }, cookieJar());

  it('a setting that cannot work stops the start, naming it', () => {
    assert.throws(
      () =>
        resolveConfig({
          authorizationServer: { issuer: project.baseUrl, verifier: 'stytch' },
          identityProvider: { kind: 'local', oidc: { clientId: RP.clientId }, stytch: { projectId: project.projectId, secret: project.secret } },
          stytchAuthorizationPage: { signIn: 'oidc', trustedAuthTokenProfileId: PROFILE },
        }),
      /identityProvider\.oidc\.issuer: required/,
    );
  });

  it('signs in at the provider, is vouched for to Stytch, consents, and the client gets a code', async () => {
    const browser = newBrowser();
    const first = await browser(pageAuthorizeUrl(clientId, { state: 'st-5' }));
    assert.equal(first.status, 303);
    const atProvider = new URL(first.headers.get('Location')!);
    assert.equal(atProvider.origin, idp.issuer);
    const callback = await signInAtProvider(browser, atProvider, { login: 'ada-0001' });
    assert.equal(`${callback.origin}${callback.pathname}`, `${PAGE}/callback`);
    const back = await browser(callback.href);
    assert.equal(back.status, 303, await back.clone().text());

    const consent = await browser(new URL(back.headers.get('Location')!, ORIGIN).href);
    assert.equal(consent.status, 200);
    const html = await consent.text();
    assert.match(html, /Notes Desktop/);
    assert.match(html, /ada@example\.com/, 'the Portcullis user named after the verified e-mail');
    const stytchUser = stytch.login.users.get('ada@example.com');
    assert.ok(stytchUser?.externalId?.startsWith('usr_'), 'Stytch provisioned its user for our linked user');

    const [form] = parseForms(html, new URL(PAGE));
    const allowed = await browser(form!.action.href, { method: 'POST', body: formData(form!, {}, (b) => b.value === 'allow') });
    const target = new URL(allowed.headers.get('Location')!);
    assert.ok(target.searchParams.get('code'));
    assert.equal(target.searchParams.get('state'), 'st-5');
    assert.ok(logger.records().some((r) => r['msg'] === 'login.succeeded' && r['identity_provider'] === 'oidc'));
  });
  it('a provider that cannot be reached is a 503 page, not a 500', async () => {
    const closed = await startOidcProvider({});
    const issuer = closed.issuer;
    await closed.close();
    const down = await createPortcullis({
      config: resolveConfig({
        publicUrl: ORIGIN,
        database: ':memory:',
        authorizationServer: { issuer: project.baseUrl, verifier: 'stytch' },
        identityProvider: { kind: 'local', oidc: { issuer, clientId: RP.clientId, clientSecret: RP.clientSecret }, stytch: { projectId: project.projectId, secret: project.secret, apiUrl: `${project.baseUrl}/v1` } },
        stytchAuthorizationPage: { signIn: 'oidc', trustedAuthTokenProfileId: PROFILE },
      }),
      storage: await openSqliteStorage(':memory:'),
      logger: createMemoryLogger(),
      fetch: outbound,
    });
    try {
      const response = await down.app.fetch(new Request(`${PAGE}?client_id=${clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}`));
      assert.equal(response.status, 503);
      assert.match(await response.text(), /Signing in with .* is not possible right now/);
    } finally {
      await down.close();
    }
  });
});
