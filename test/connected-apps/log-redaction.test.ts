import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryLogger } from '../../src/log/logger.ts';

/**
 * What the Authorization URL page handles that must never reach a log, run through the logger as
 * any future log line would carry it: Stytch's one-time OAuth token in the callback URL, a Stytch
 * session token or JWT, the project secret in a Basic header, and the code in the URL Stytch answers.
 */
describe('the logger redacts what the Stytch page handles', () => {
  const SECRETS = {
    oauthToken: 'Xk3r9QpL2mVb7nTz0cWd5sYh8gFa1eJu4iOy6',
    sessionToken: 'mZ8qV3xR1tK6wB0nL5pJ9sD2fG7hC4aE',
    sessionJwt: 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLXRlc3QtMSJ9.c2lnbmF0dXJlLWJ5dGVz',
    code: 'Q2hvb3NlIGEgY29kZSBsb25nIGVub3VnaA',
    basic: Buffer.from('project-test-1:secret-test-abcdef0123456789').toString('base64'),
  };

  it('as text in a message, as URL parameters, and as fields named after them', () => {
    const logger = createMemoryLogger();
    logger.info(`GET /oauth/authorize/callback?tx=abc&stytch_token_type=oauth&token=${SECRETS.oauthToken}`);
    logger.info('stytch answered', { redirect_uri: `http://127.0.0.1:53682/callback?code=${SECRETS.code}&state=st-1` });
    logger.info('session', { session_token: SECRETS.sessionToken, session_jwt: SECRETS.sessionJwt, note: `jwt ${SECRETS.sessionJwt}` });
    logger.warn('stytch call', { headers: { Authorization: `Basic ${SECRETS.basic}` }, detail: `Authorization: Basic ${SECRETS.basic}` });
    const log = logger.lines.join('\n');
    for (const [name, value] of Object.entries(SECRETS)) assert.ok(!log.includes(value), `${name} reached the log:\n${log}`);
    assert.match(log, /stytch_token_type=oauth/, 'what is not secret stays readable');
  });
});
