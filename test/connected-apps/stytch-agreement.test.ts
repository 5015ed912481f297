/**
 * Agreement matrix for the Stytch API the Authorization URL page uses: the official `stytch` SDK
 * (run unmodified in a child process, against the Stytch fixture over https) and our client
 * (src/connected-apps/stytch-idp.ts) get the same answers from the fixture, row by row, and those
 * answers are what Stytch documents (seed-systems.md §4.1, §4.4, §4.5; the SDK's idp_oauth typings).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createStytchIdp, StytchApiError, type StytchAuthorizationParams, type StytchIdp } from '../../src/connected-apps/stytch-idp.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { createTestCertificate, listenHttps, type HttpsListener, type TestCertificate } from '../fixtures/stytch/https.ts';
import { createStytchProject, type StytchProject } from '../fixtures/stytch/project.ts';
import { callStytchSdk, type SdkCall, type SdkCallOutcome } from '../fixtures/stytch/sdk.ts';
import { createStytchProjectFixture, type StytchProjectFixture } from '../fixtures/stytch/stytch-project.ts';

const REDIRECT = 'http://127.0.0.1:53682/callback';
const LOGIN_REDIRECT = 'https://app.example/authenticate';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

type Outcome = { ok: true; value: unknown } | { ok: false; status: number; errorType: string };

describe('Stytch Connected Apps API: our client agrees with the stytch SDK against the fixture', () => {
  const clock = new ManualClock(Date.now());
  let certificate: TestCertificate;
  let listener: HttpsListener;
  let project: StytchProject;
  let stytch: StytchProjectFixture;
  let ours: StytchIdp;
  let clientId = '';

  before(async () => {
    certificate = await createTestCertificate();
    listener = await listenHttps((request) => stytch.app.fetch(request), certificate);
    project = createStytchProject(listener.origin);
    stytch = await createStytchProjectFixture({ project, clock, redirectUrls: [LOGIN_REDIRECT] });
    ours = createStytchIdp({ apiUrl: `${project.baseUrl}/v1`, projectId: project.projectId, secret: project.secret, fetch: async (input, init) => stytch.app.fetch(new Request(input, init)) });
    const registered = await stytch.app.fetch(
      new Request(`${project.baseUrl}/v1/oauth2/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ client_name: 'Notes Desktop', redirect_uris: [REDIRECT] }) }),
    );
    assert.equal(registered.status, 201);
    clientId = ((await registered.json()) as { client_id: string }).client_id;
  });
  after(async () => {
    await listener?.close();
    await certificate?.dispose();
  });

  /** Signs a new person up through the login fixture ("Google" page), in process; returns the one-time OAuth token. */
  async function oauthToken(email: string): Promise<string> {
    const start = new URL(`${project.baseUrl}/v1/public/oauth/google/start`);
    start.search = new URLSearchParams({ public_token: stytch.login.publicToken, login_redirect_url: LOGIN_REDIRECT, signup_redirect_url: LOGIN_REDIRECT }).toString();
    const provider = await stytch.app.fetch(new Request(start));
    const page = new URL(provider.headers.get('Location')!, project.baseUrl);
    const back = await stytch.app.fetch(new Request(page, { method: 'POST', body: new URLSearchParams({ email }) }));
    return new URL(back.headers.get('Location')!).searchParams.get('token')!;
  }

  async function signUp(email: string): Promise<string> {
    const token = await oauthToken(email);
    await stytch.app.fetch(
      new Request(`${project.baseUrl}/v1/oauth/authenticate`, {
        method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from(`${project.projectId}:${project.secret}`).toString('base64')}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ token }),
      }),
    );
    return stytch.login.users.get(email)!.userId;
  }

  const params = (overrides: Partial<StytchAuthorizationParams> = {}): StytchAuthorizationParams => ({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scopes: ['openid', 'read:tasks'],
    ...overrides,
  });

  async function oursOutcome(call: () => Promise<unknown>): Promise<Outcome> {
    try {
      return { ok: true, value: await call() };
    } catch (error) {
      if (error instanceof StytchApiError) return { ok: false, status: error.status, errorType: error.errorType };
      throw error;
    }
  }

  function sdk(calls: SdkCall[]): Promise<SdkCallOutcome[]> {
    return callStytchSdk({ projectId: project.projectId, secret: project.secret, baseUrl: project.baseUrl, calls }, certificate.certPath);
  }

  it('Start OAuth Authorization: every row answers the same to both, as documented', async () => {
    const userId = await signUp('grace@example.com');
    const rows: { name: string; request: StytchAuthorizationParams; user?: string; secret?: string; expect: { status: number; errorType: string } | 'ok' }[] = [
      { name: 'a registered client, its redirect URI, known scopes', request: params(), expect: 'ok' },
      { name: 'unknown client', request: params({ client_id: 'connected-app-test-00000000-0000-0000-0000-000000000000' }), expect: { status: 404, errorType: 'connected_app_not_found' } },
      { name: 'unregistered redirect_uri', request: params({ redirect_uri: 'https://evil.example/cb' }), expect: { status: 400, errorType: 'invalid_redirect_uri' } },
      { name: 'response_type token', request: params({ response_type: 'token' }), expect: { status: 400, errorType: 'unsupported_response_type' } },
      { name: 'a scope the project does not define', request: params({ scopes: ['openid', 'admin:everything'] }), expect: { status: 400, errorType: 'invalid_scope' } },
      { name: 'prompt=login (only consent is supported)', request: params({ prompt: 'login' }), expect: { status: 400, errorType: 'invalid_prompt' } },
      { name: 'an unknown user', request: params(), user: 'user-test-00000000-0000-0000-0000-000000000000', expect: { status: 404, errorType: 'user_not_found' } },
      { name: 'a wrong project secret', request: params(), secret: 'secret-test-wrong', expect: { status: 401, errorType: 'unauthorized_credentials' } },
    ];
    const theirs = await sdk(
      rows.map((r) => ({ name: r.name, method: 'idp.oauth.authorizeStart', args: { ...r.request, user_id: r.user ?? userId }, ...(r.secret ? { secret: r.secret } : {}) })),
    );
    for (const [i, row] of rows.entries()) {
      const client = row.secret ? createStytchIdp({ apiUrl: `${project.baseUrl}/v1`, projectId: project.projectId, secret: row.secret, fetch: async (input, init) => stytch.app.fetch(new Request(input, init)) }) : ours;
      const mine = await oursOutcome(() => client.authorizeStart(row.request, row.user ?? userId));
      const sdkRow = theirs[i]!;
      if (row.expect === 'ok') {
        assert.ok(sdkRow.ok && mine.ok, `${row.name}: sdk ${JSON.stringify(sdkRow)}, ours ${JSON.stringify(mine)}`);
        const result = sdkRow.result;
        const value = mine.value as Awaited<ReturnType<StytchIdp['authorizeStart']>>;
        assert.equal(result['user_id'], userId);
        assert.equal(result['consent_required'], true, 'a third-party client asks for consent the first time');
        assert.equal(value.consentRequired, result['consent_required']);
        assert.deepEqual(value.scopeResults, result['scope_results']);
        assert.deepEqual(value.client, result['client']);
        assert.equal(value.client.client_name, 'Notes Desktop');
        assert.deepEqual(value.scopeResults.map((r) => [r.scope, r.is_grantable]), [['openid', true], ['read:tasks', true]]);
      } else {
        assert.deepEqual(sdkRow.ok ? sdkRow : { status: sdkRow.status, errorType: sdkRow.errorType }, row.expect, `sdk on ${row.name}`);
        assert.deepEqual(mine.ok ? mine : { status: mine.status, errorType: mine.errorType }, row.expect, `ours on ${row.name}`);
      }
    }
  });

  it('OAuth Authorize: deny, allow, then no consent needed for the same scopes; the same redirects for both', async () => {
    const [sdkUser, ourUser] = [await signUp('sdk@example.com'), await signUp('ours@example.com')];
    const request = params({ state: 'st-1', code_challenge: CHALLENGE });
    const theirs = await sdk([
      { name: 'deny', method: 'idp.oauth.authorize', args: { ...request, user_id: sdkUser, consent_granted: false } },
      { name: 'allow', method: 'idp.oauth.authorize', args: { ...request, user_id: sdkUser, consent_granted: true } },
      { name: 'again', method: 'idp.oauth.authorizeStart', args: { ...params(), user_id: sdkUser } },
      { name: 'public client without code_challenge', method: 'idp.oauth.authorize', args: { ...params({ state: 'st-2' }), user_id: sdkUser, consent_granted: true } },
    ]);
    const mine = [
      await ours.authorize(request, ourUser, false),
      await ours.authorize(request, ourUser, true),
      (await ours.authorizeStart(params(), ourUser)).consentRequired,
      await ours.authorize(params({ state: 'st-2' }), ourUser, true),
    ];
    assert.ok(theirs.every((o) => o.ok), JSON.stringify(theirs));
    const results = theirs.map((o) => (o as { result: Record<string, unknown> }).result);
    const shape = (url: string) => {
      const u = new URL(url);
      return { at: `${u.origin}${u.pathname}`, params: [...u.searchParams.keys()].sort(), error: u.searchParams.get('error'), state: u.searchParams.get('state') };
    };
    assert.deepEqual(shape(results[0]!['redirect_uri'] as string), { at: REDIRECT, params: ['error', 'error_description', 'state'], error: 'access_denied', state: 'st-1' });
    assert.deepEqual(shape(mine[0] as string), shape(results[0]!['redirect_uri'] as string));
    assert.deepEqual(shape(results[1]!['redirect_uri'] as string), { at: REDIRECT, params: ['code', 'state'], error: null, state: 'st-1' });
    assert.equal(new URL(results[1]!['redirect_uri'] as string).searchParams.get('code'), results[1]!['authorization_code']);
    assert.deepEqual(shape(mine[1] as string), shape(results[1]!['redirect_uri'] as string));
    assert.equal(results[2]!['consent_required'], false, 'consent is remembered for the same scopes');
    assert.equal(mine[2], false);
    assert.equal(shape(results[3]!['redirect_uri'] as string).error, 'invalid_request');
    assert.deepEqual(shape(mine[3] as string), shape(results[3]!['redirect_uri'] as string));
  });

  it('OAuth authenticate (the login the page uses): the SDK reads the fixture\'s answer, and a token is single use', async () => {
    const token = await oauthToken('linus@example.com');
    const [first, second] = await sdk([
      { name: 'first', method: 'oauth.authenticate', args: { token } },
      { name: 'again', method: 'oauth.authenticate', args: { token } },
    ]);
    assert.ok(first?.ok, JSON.stringify(first));
    assert.equal(first.result['user_id'], stytch.login.users.get('linus@example.com')!.userId);
    assert.equal(first.result['provider_type'], 'Google');
    assert.deepEqual(second?.ok ? second : { status: second?.status, errorType: second?.errorType }, { status: 404, errorType: 'oauth_token_not_found' });
  });
  it('email one-time codes (the sign-in that needs nothing set up): both send, check and refuse alike', async () => {
    const email = 'katherine@example.com';
    const [sent] = await sdk([{ name: 'send', method: 'otps.email.loginOrCreate', args: { email } }]);
    assert.ok(sent?.ok, JSON.stringify(sent));
    assert.equal(sent.result['user_created'], true);
    const sdkCode = stytch.login.inbox.get(email)!;
    const [wrongSdk, rightSdk] = await sdk([
      { name: 'wrong', method: 'otps.authenticate', args: { method_id: sent.result['email_id'], code: sdkCode === '000000' ? '111111' : '000000' } },
      { name: 'right', method: 'otps.authenticate', args: { method_id: sent.result['email_id'], code: sdkCode } },
    ]);
    assert.deepEqual(wrongSdk?.ok ? wrongSdk : { status: wrongSdk?.status, errorType: wrongSdk?.errorType }, { status: 404, errorType: 'otp_code_not_found' });
    assert.ok(rightSdk?.ok, JSON.stringify(rightSdk));
    assert.equal(rightSdk.result['user_id'], sent.result['user_id']);

    const method = await ours.sendEmailCode(email);
    const code = stytch.login.inbox.get(email)!;
    const wrongOurs = await oursOutcome(() => ours.checkEmailCode(method, code === '000000' ? '111111' : '000000'));
    assert.deepEqual(wrongOurs, { ok: false, status: 404, errorType: 'otp_code_not_found' });
    assert.equal(await ours.checkEmailCode(method, code), sent.result['user_id'], 'the same Stytch user for the same address');
    const spent = await oursOutcome(() => ours.checkEmailCode(method, code));
    assert.deepEqual(spent, { ok: false, status: 404, errorType: 'otp_code_not_found' }, 'a code is single use');
  });

  it('sessions: authenticate by token and by JWT, and attest a trusted identity provider\'s JWT (just-in-time user), as the SDK reads them', async () => {
    const login = await stytch.app.fetch(
      new Request(`${project.baseUrl}/v1/oauth/authenticate`, {
        method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from(`${project.projectId}:${project.secret}`).toString('base64')}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: await oauthToken('margaret@example.com'), session_duration_minutes: 60 }),
      }),
    );
    const { session_token: sessionToken, session_jwt: sessionJwt, user_id: userId } = (await login.json()) as Record<string, string>;
    assert.ok(sessionToken && sessionJwt);

    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const idp = { issuer: 'https://accounts.portcullis.test', audience: 'stytch-trusted-auth' };
    stytch.login.sessions.addTrustedAuthTokenProfile({ profile_id: 'trusted-auth-token-profile-test-1', ...idp, keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }], idClaim: 'sub', emailClaim: 'email' });
    const token = (claims: Record<string, unknown>) =>
      new SignJWT({ email: 'hedy@example.com', ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(idp.issuer).setAudience(String(claims['aud'] ?? idp.audience)).setSubject('local-user-7').setIssuedAt().setExpirationTime('5m').sign(privateKey);
    const attest = (name: string, args: Record<string, unknown>): SdkCall => ({ name, method: 'sessions.attest', args: { profile_id: 'trusted-auth-token-profile-test-1', session_duration_minutes: 60, ...args } });

    const outcomes = await sdk([
      { name: 'by token', method: 'sessions.authenticate', args: { session_token: sessionToken } },
      { name: 'by JWT', method: 'sessions.authenticate', args: { session_jwt: sessionJwt } },
      { name: 'unknown token', method: 'sessions.authenticate', args: { session_token: 'x'.repeat(44) } },
      { name: 'too short', method: 'sessions.authenticate', args: { session_token: sessionToken, session_duration_minutes: 1 } },
      attest('first attest', { token: await token({}) }),
      attest('second attest, same subject', { token: await token({}) }),
      attest('another audience', { token: await token({ aud: 'someone-else' }) }),
      attest('unknown profile', { token: await token({}), profile_id: 'trusted-auth-token-profile-test-none' }),
    ]);
    const [byToken, byJwt, unknown, short, first, second, foreign, noProfile] = outcomes;
    const failure = (o: SdkCallOutcome | undefined) => (o && !o.ok ? { status: o.status, errorType: o.errorType } : o);
    assert.ok(byToken?.ok && byJwt?.ok, JSON.stringify(outcomes.slice(0, 2)));
    assert.equal((byToken.result['user'] as { user_id: string }).user_id, userId);
    assert.equal(byToken.result['session_token'], sessionToken);
    assert.equal((byJwt.result['session'] as { user_id: string }).user_id, userId);
    assert.deepEqual(failure(unknown), { status: 404, errorType: 'session_not_found' });
    assert.deepEqual(failure(short), { status: 400, errorType: 'invalid_session_duration' });
    assert.ok(first?.ok && second?.ok, JSON.stringify([first, second]));
    assert.match(String(first.result['user_id']), /^user-test-/);
    assert.equal(second.result['user_id'], first.result['user_id'], 'the same external user is the same Stytch user');
    assert.equal((first.result['user'] as { external_id?: string }).external_id, 'local-user-7');
    assert.ok(first.result['session_token'] && first.result['session_jwt']);
    assert.deepEqual(failure(foreign), { status: 401, errorType: 'invalid_trusted_auth_token' });
    assert.deepEqual(failure(noProfile), { status: 404, errorType: 'trusted_auth_token_profile_not_found' });

    // One key set for the project: the SDK verifies a session JWT locally with the published JWKS.
    const [local] = await sdk([{ name: 'local', method: 'sessions.authenticateJwtLocal', args: { session_jwt: sessionJwt } }]);
    assert.ok(local?.ok, JSON.stringify(local));
    assert.equal(local.result['user_id'], userId);
    // Past the JWT's five minutes, the session (60 minutes) still is: authenticate takes the old JWT and gives a new one.
    clock.advance(10 * 60_000);
    const [refreshed] = await sdk([{ name: 'expired JWT, live session', method: 'sessions.authenticate', args: { session_jwt: sessionJwt } }]);
    assert.ok(refreshed?.ok, JSON.stringify(refreshed));
    assert.notEqual(refreshed.result['session_jwt'], sessionJwt);
    clock.advance(60 * 60_000);
    const [ended] = await sdk([{ name: 'session over', method: 'sessions.authenticate', args: { session_token: sessionToken } }]);
    assert.deepEqual(failure(ended), { status: 404, errorType: 'session_not_found' });
  });
});
