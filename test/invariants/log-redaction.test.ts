import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createMemoryLogger, redactText, redactTextFully } from '../../src/log/logger.ts';
import type { AuthorizationRequestRecord } from '../../src/storage/types.ts';
import { openConsent, pressAllow, REDIRECT, setup, testBrowser } from '../authorize/setup.ts';

const CODE = 'pcc_' + 'C'.repeat(43);
const STATE = 'st4te-value-xyz';

describe('HARD-3 GEN-06 the logger redacts credentials inside strings, whoever logs them', () => {
  it('HARD-3 a URL with code, state or a token in its query or fragment is logged without their values', () => {
    const logger = createMemoryLogger();
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    logger.error(`redirect to http://127.0.0.1:8765/cb?code=${CODE}&state=${STATE}&iss=x failed`, {
      location: `https://app.example/cb?state=${STATE}&code=${CODE}`,
      nested: { urls: [`https://app.example/cb#access_token=${jwt}&token_type=Bearer`, `https://a.example/?x=1&refresh_token=pcr_${'R'.repeat(43)}`] },
      wrapped: `https://idp.example/authorize?redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fcode%3D${CODE}%26state%3D${STATE}`,
      header: `Bearer ${jwt}`,
      error: new TypeError(`Invalid header value: "http://127.0.0.1:8765/cb\r\n?code=${CODE}&state=${STATE}"`),
    });
    const line = logger.lines.join('\n');
    for (const secret of [CODE, STATE, jwt, 'R'.repeat(43), 'C'.repeat(43)]) assert.ok(!line.includes(secret), `${secret} in ${line}`);
    assert.match(line, /code=\[redacted\]/);
    assert.match(line, /state=\[redacted\]/);
    assert.match(line, /iss=x/, 'other parameters stay readable');
  });

  it('HARD-3 known secret field names are redacted whatever their nesting, and deep objects are not written', () => {
    const logger = createMemoryLogger();
    logger.info('x', { state: STATE, nonce: 'n0nce-value', client_credential: 'cred-value', a: { b: { c: { d: { e: { password: 'deep-secret' } } } } } });
    const line = logger.lines.join('\n');
    for (const secret of [STATE, 'n0nce-value', 'cred-value', 'deep-secret']) assert.ok(!line.includes(secret), secret);
  });

  it('HARD-3 a pending request whose redirect URI cannot be a Location: a 400 page, no consent recorded, no code issued, nothing logged', async () => {
    const f = await setup();
    const browser = testBrowser(f);
    // A session, through the normal flow.
    await openConsent(browser, f.url());
    // A request stored before redirect URIs were held to visible ASCII.
    const request: AuthorizationRequestRecord = {
      id: 'L'.repeat(22),
      clientId: f.client.clientId,
      redirectUri: `${REDIRECT}\r\nX-Injected: 1`,
      state: STATE,
      scopes: ['tasks:read'],
      resource: f.app.ctx.config.resource,
      codeChallenge: f.pkce.challenge,
      nonce: null,
      prompt: null,
      createdAt: f.app.clock.now(),
      expiresAt: f.app.clock.now() + 600_000,
    };
    await f.app.storage.authorizationRequests.create(request);
    const page = await browser.open(new URL(`/consent?request=${request.id}`, f.app.origin));
    assert.equal(page.response.status, 200);
    const issued: string[] = [];
    const codes = f.app.storage.authorizationCodes;
    const create = codes.create.bind(codes);
    codes.create = async (c) => {
      issued.push(c.codeHash);
      await create(c);
    };
    const response = await browser.submit(page.form!, {}, pressAllow);
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('Location'), null);
    assert.match(await response.text(), /return address \(redirect_uri\) is not a valid URI/);
    assert.deepEqual(issued, [], 'no code was issued');
    const userId = (await f.app.storage.users.byUsername('alice'))!.id;
    assert.equal(await f.app.storage.consents.get(userId, f.client.clientId), null, 'no consent was recorded');
    assert.ok(!f.app.logger.lines.join('\n').includes(STATE));
  });

  it('HARD-3 the quick check before redaction skips only text the credential patterns would leave unchanged', () => {
    // Strings assembled from the patterns' own pieces (delimiters, parameter names, token prefixes,
    // JWT and scheme starts) in any case, among ordinary characters: wherever the full redaction
    // changes a string, the quick path must redact it the same way.
    const piece = fc.constantFrom('?', '&', '#', ';', '%3F', '%26', '%23', '%3D', '=', 'code', 'state', 'access_token', 'key', 'pcr_', 'pca_', 'PCR_', 'eyJ', 'EYJ', 'eyJhbGci', '.eyJzdWIi', '.c2ln', '.', 'Bearer ', 'basic\t', 'DPoP  ', 'RRRRRRRRRRRRRRRR', 'x', ' ', '-');
    // Whole credentials too, one per trigger, so every one of them is exercised in most runs.
    const whole = fc.constantFrom('?code=abc', ';code=abc', '#access_token=abc', '%3Fstate%3Dabc', '&Key=abc', 'eyJhbGci.eyJzdWIi.c2ln', 'pcr_RRRRRRRRRRRRRRRR', 'Basic QWxhZGRpbjpvcGVu', 'dpop QWxhZGRpbjpvcGVu');
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, whole, fc.string({ maxLength: 3 })), { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        assert.equal(redactText(text), redactTextFully(text));
      }),
      { numRuns: 5000 },
    );
    assert.equal(redactText('token.refreshed'), 'token.refreshed');
    assert.equal(redactText(`x pcr_${'R'.repeat(20)}`), 'x pcr_[redacted]');
  });

  it('HARD-3 a refresh token of the grant-family form is redacted whole, dots included, in free text and in JSON text', () => {
    const token = `pcr_${'G'.repeat(22)}.${'T'.repeat(22)}.${'S'.repeat(43)}`;
    assert.equal(redactText(`refresh failed for ${token} (retry)`), 'refresh failed for pcr_[redacted] (retry)');
    assert.equal(redactText(JSON.stringify({ refresh_token: token })), '{"refresh_token":"pcr_[redacted]"}');
  });
});
