import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { setup, PASSWORD, USERNAME, type Fixture } from '../authorize/setup.ts';
import { authorizeWithForms } from '../helpers/oauth-flow.ts';
import { post, toolCallMessage } from '../mcp/wire.ts';
import { parseChallenge } from '../resource/fixtures.ts';

/**
 * The built-in authorization server issuing tokens for other MCP servers (the `resources` setting,
 * RFC 8707): what a standalone Portcullis authorization server does for a resource-only Portcullis.
 */

const OTHER = 'https://tasks.example.com/mcp';
const UNLISTED = 'https://elsewhere.example.com/mcp';

interface TokenBody {
  access_token: string;
  refresh_token?: string;
  error?: string;
}

describe('resources: tokens for another MCP server (RFC 8707)', () => {
  let f: Fixture;
  const consentPages: string[] = [];

  /** The real login and consent forms; returns the code. */
  async function authorize(resource: string | undefined): Promise<string> {
    const callback = await authorizeWithForms({
      fetch: f.fetch,
      authorizationUrl: f.url({ resource, scope: 'tasks:read offline_access' }),
      username: USERNAME,
      password: PASSWORD,
      onPage: (page) => {
        if (!page.form.inputs.some((i) => i.type === 'password')) consentPages.push(page.html);
      },
    });
    const code = callback.searchParams.get('code');
    assert.ok(code, `no code: ${callback.search}`);
    return code;
  }

  async function exchange(code: string, resource: string | undefined): Promise<{ status: number; body: TokenBody }> {
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: f.pkce.verifier, client_id: f.client.clientId, redirect_uri: f.client.redirectUris[0]! });
    if (resource !== undefined) form.set('resource', resource);
    const response = await f.app.request('/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    return { status: response.status, body: (await response.json()) as TokenBody };
  }

  /** `resource` at /authorize and at /token, as MCP clients send it. */
  const obtain = async (resource: string | undefined) => exchange(await authorize(resource), resource);

  const refresh = async (refreshToken: string, resource: string) => {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: f.client.clientId, resource });
    const response = await f.app.request('/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    return { status: response.status, body: (await response.json()) as TokenBody };
  };

  before(async () => {
    f = await setup({ config: { resources: [OTHER] } });
  });
  after(() => f.app.close());

  it('RFC 8707 §2: a listed resource is accepted at /authorize and /token; the access token\'s aud is that resource', async () => {
    const { status, body } = await obtain(OTHER);
    assert.equal(status, 200, JSON.stringify(body));
    const claims = decodeJwt(body.access_token);
    assert.equal(claims.aud, OTHER);
    assert.equal(claims.iss, f.app.ctx.config.issuer);
    const grantResource = (await f.app.storage.grants.get(String(claims['gid'])))?.resource;
    assert.equal(grantResource, OTHER);
  });

  it('the consent page shows which server the user grants access to', () => {
    assert.ok(consentPages.at(-1)?.includes(OTHER), 'the resource URL is on the consent page');
  });

  it('RS-20: the resource is compared in canonical form (scheme and host case, a trailing slash), and recorded as configured', async () => {
    const { status, body } = await obtain('HTTPS://Tasks.Example.com/mcp/');
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(decodeJwt(body.access_token).aud, OTHER);
  });

  it('without a resource parameter the token is for this server\'s own MCP endpoint, as before', async () => {
    const { body } = await obtain(undefined);
    assert.equal(decodeJwt(body.access_token).aud, f.app.ctx.config.resource);
  });

  it('RS-08/RS-18: a token issued for the other server is refused by this server\'s own MCP endpoint (401 invalid_token)', async () => {
    const { body } = await obtain(OTHER);
    const response = await post(f.app, toolCallMessage('whoami'), { Authorization: `Bearer ${body.access_token}` });
    assert.equal(response.status, 401);
    assert.equal(parseChallenge(response.headers.get('WWW-Authenticate')).params['error'], 'invalid_token');
  });

  it('RFC 8707 §2: a resource not on the list is refused at /authorize with invalid_target, sent back to the client', async () => {
    const response = await f.fetch(f.url({ resource: UNLISTED }));
    assert.equal(response.status, 303);
    const back = new URL(response.headers.get('Location')!);
    assert.equal(`${back.origin}${back.pathname}`, f.client.redirectUris[0]);
    assert.equal(back.searchParams.get('error'), 'invalid_target');
    assert.equal(back.searchParams.get('state'), 'xyz-state');
  });

  it('a token has one audience: two different resources in one request are refused with invalid_target', async () => {
    const url = f.url({ resource: OTHER });
    url.searchParams.append('resource', f.app.ctx.config.resource);
    const back = new URL((await f.fetch(url)).headers.get('Location')!);
    assert.equal(back.searchParams.get('error'), 'invalid_target');
    const same = f.url({ resource: OTHER });
    same.searchParams.append('resource', OTHER);
    const onward = new URL((await f.fetch(same)).headers.get('Location')!, f.app.origin);
    assert.equal(onward.origin, f.app.origin, 'the same resource twice is fine: on to the login page, not back with an error');
  });

  it('RFC 8707 §2.2: at /token, only the resource the user consented to; another listed one is invalid_target and the code stays usable', async () => {
    const code = await authorize(OTHER);
    const refused = await exchange(code, f.app.ctx.config.resource);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_target');
    const redeemed = await exchange(code, OTHER);
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    assert.equal(decodeJwt(redeemed.body.access_token).aud, OTHER);
  });

  it('RFC 8707 §2.2: a refresh may name the granted resource again (in any canonical spelling), and no other', async () => {
    const { body } = await obtain(OTHER);
    assert.ok(body.refresh_token);
    const wrong = await refresh(body.refresh_token, f.app.ctx.config.resource);
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_target');
    const right = await refresh(body.refresh_token, 'https://TASKS.example.com/mcp');
    assert.equal(right.status, 200, JSON.stringify(right.body));
    assert.equal(decodeJwt(right.body.access_token).aud, OTHER);
  });
});
