import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ACCOUNTS, fullLogin, oidcSetup, redeem, tokenSubject, type OidcSetup } from '../identity/helpers.ts';
import { connectClient } from '../mcp/wire.ts';

/**
 * OIDC maps a groups claim (issue 14 part 4): a person signing in through an OpenID Connect
 * provider (panva's oidc-provider, a real one) gets the groups of its ID token's `groupsClaim`,
 * refreshed at every login, and tool policy rules on groups apply to them.
 */
describe('toolPolicy.groupsClaim: groups from an OpenID Connect provider', () => {
  let s: OidcSetup;
  let groupsAtProvider = ['ops', 'staff'];
  before(async () => {
    s = await oidcSetup({
      oidcScopes: ['openid', 'email', 'profile', 'groups'],
      config: {
        toolPolicy: { groupsClaim: 'groups', rules: [{ tools: ['delete_*'], groups: ['ops'] }] },
      },
      idp: {
        accounts: ACCOUNTS.map((a) => (a.sub === 'alice-0001' ? { ...a, get groups() { return groupsAtProvider; } } : a)),
        scopes: ['groups'],
        configure: (c) => {
          c.claims = { ...c.claims, groups: ['groups'] };
          // Scope-released claims in the ID token itself, as providers that send groups do.
          c.conformIdTokenClaims = false;
        },
      },
    });
  });
  after(() => s?.close());

  async function signInAsAlice(): Promise<string> {
    const back = await fullLogin(s, s.browser(), 'alice-0001', s.url({ scope: 'tasks:write' }));
    const tokens = await redeem(s, back.searchParams.get('code') ?? '');
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    return String(tokens.body.access_token);
  }

  it('the ID token\'s groups become the account\'s, and a group rule lets the person call the tool', async () => {
    const token = await signInAsAlice();
    assert.deepEqual(await s.app.storage.users.groups(tokenSubject(token)), ['ops', 'staff']);
    const { client } = await connectClient(s.app, token, 'modern');
    assert.ok((await client.listTools()).tools.some((t) => t.name === 'delete_task'));
    await client.close();
  });

  it('groups follow the provider at the next login: removed there, gone here, and the tool with them', async () => {
    groupsAtProvider = ['staff'];
    const token = await signInAsAlice();
    assert.deepEqual(await s.app.storage.users.groups(tokenSubject(token)), ['staff']);
    const { client } = await connectClient(s.app, token, 'modern');
    assert.ok(!(await client.listTools()).tools.some((t) => t.name === 'delete_task'));
    await client.close();
  });
});
