/**
 * RFC 9449 end to end with a client not written here: the official MCP SDK v2 client, whose
 * OAuthClientProvider offers a `DpopSession`, against a real Portcullis on a loopback socket. The SDK
 * discovers, registers, is signed in through the real pages, redeems the code and refreshes with its
 * own proofs, and presents `Authorization: DPoP` with a proof on every MCP request. Only time is
 * controlled (the server's ManualClock), so the access token can expire.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DpopSession, generateDpopKeyPair, OAuthError, refreshAuthorization, UnauthorizedError } from '@modelcontextprotocol/client';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from 'jose';
import { E2E_USER, startRealServer, type RealServer } from '../helpers/e2e.ts';
import { initializeMessage, mcpHeaders } from '../mcp/wire.ts';
import { assertDpopChallenge, craftProof, createDpopClientKey, dpopAuth } from './dpop-client.ts';
import { SdkClient } from './sdk-client.ts';

const ACCESS_TOKEN_TTL = 60;

const proofClaims = (proof: string | null) => {
  assert.ok(proof, 'a DPoP proof was sent');
  assert.equal(decodeProtectedHeader(proof).typ, 'dpop+jwt');
  return decodeJwt(proof) as { htm: string; htu: string; jti: string; ath?: string; nonce?: string };
};

for (const dpopNonces of [false, true]) {
  describe(`RFC 9449 with the MCP SDK client: sign-in, tools and refresh${dpopNonces ? ', server nonces on (§8, §9)' : ''}`, () => {
    let real: RealServer;
    let keyPair: Awaited<ReturnType<typeof generateDpopKeyPair>>;
    let session: DpopSession;
    let sdk: SdkClient;

    before(async () => {
      real = await startRealServer({ accessTokenTtl: ACCESS_TOKEN_TTL, dpopNonces });
      keyPair = await generateDpopKeyPair();
      session = await DpopSession.create({ keyPair });
      sdk = new SdkClient(`${real.origin}/mcp`, { dpop: session });
    });
    after(async () => {
      await sdk.client?.close().catch(() => {});
      await real.close();
    });

    it('RFC 9449 §5: the SDK discovers, registers, signs in and gets a DPoP token bound to its key (cnf.jkt)', async () => {
      await sdk.signIn();
      assert.equal(sdk.provider.tokenSet?.token_type.toLowerCase(), 'dpop');
      assert.equal(sdk.provider.registrations, 1);
      // The thumbprint computed here from the public key, not the one the SDK reports.
      assert.equal(sdk.claims.cnf?.jkt, await calculateJwkThumbprint(session.publicJwk, 'sha256'));

      const redeemed = sdk.exchanges.find((e) => e.url.pathname === '/token' && e.status === 200);
      assert.ok(redeemed, sdk.trace());
      assert.equal(new URLSearchParams(redeemed.body).get('grant_type'), 'authorization_code');
      const proof = proofClaims(redeemed.proof);
      assert.deepEqual([proof.htm, proof.htu, proof.ath], ['POST', `${real.origin}/token`, undefined]);
      if (dpopNonces) {
        const tokenRequests = sdk.exchanges.filter((e) => e.url.pathname === '/token').map((e) => `${e.status} ${e.error ?? ''}`.trim());
        assert.deepEqual(tokenRequests, ['400 use_dpop_nonce', '200'], 'one nonce challenge, answered');
        assert.ok(proof.nonce, 'the accepted proof carries the server nonce');
      }
    });

    it('RFC 9449 §7.1: lists and calls tools with Authorization: DPoP and a fresh proof (with ath) on each request', async () => {
      const start = sdk.exchanges.length;
      const names = (await sdk.client!.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('whoami'), names.join(' '));
      const me = await sdk.whoami();
      assert.equal(me['username'], E2E_USER.username);
      assert.equal(me['clientId'], sdk.provider.client?.client_id);

      const served = sdk.exchanges.filter((e) => e.url.pathname === '/mcp' && e.status === 200);
      assert.ok(served.length >= 3, sdk.trace());
      const jtis = new Set<string>();
      for (const exchange of served) {
        assert.equal(exchange.authorization, `DPoP ${sdk.accessToken}`);
        const proof = proofClaims(exchange.proof);
        assert.equal(proof.htu, `${real.origin}/mcp`);
        assert.ok(proof.ath, 'the proof is bound to the access token');
        if (dpopNonces) assert.ok(proof.nonce, 'every accepted proof carries a nonce');
        jtis.add(proof.jti);
      }
      assert.equal(jtis.size, served.length, 'a new jti for every request');
      assert.ok(sdk.exchanges.slice(start).every((e) => e.status < 400), `no refusals once signed in:\n${sdk.trace()}`);
    });

    it('RFC 9449 §5 refresh: once the access token expires the SDK refreshes with a proof, stays bound, and calls again', async () => {
      const before = { token: sdk.accessToken, urls: sdk.provider.authorizationUrls.length, saved: sdk.provider.tokensSaved, exchanges: sdk.exchanges.length };
      real.clock.advance((ACCESS_TOKEN_TTL + 1) * 1000);
      assert.equal((await sdk.whoami())['username'], E2E_USER.username);

      const seen = sdk.exchanges.slice(before.exchanges);
      assert.ok(seen.some((e) => e.url.pathname === '/mcp' && e.status === 401 && e.error === 'invalid_token'), `the expired token was refused:\n${sdk.trace()}`);
      const refreshed = seen.find((e) => e.url.pathname === '/token' && e.status === 200);
      assert.ok(refreshed, sdk.trace());
      assert.equal(new URLSearchParams(refreshed.body).get('grant_type'), 'refresh_token');
      assert.equal(proofClaims(refreshed.proof).htu, `${real.origin}/token`);
      assert.equal(sdk.provider.tokensSaved, before.saved + 1);
      assert.notEqual(sdk.accessToken, before.token);
      assert.equal(sdk.provider.tokenSet?.token_type.toLowerCase(), 'dpop');
      assert.equal(sdk.claims.cnf?.jkt, session.thumbprint, 'the new token is bound to the same key');
      assert.equal(sdk.provider.authorizationUrls.length, before.urls, 'no new sign-in');
    });

    // The SDK keeps one nonce per origin, and /token and /mcp share one here, so the nonce won at the
    // token endpoint serves the MCP endpoint too. A restarted client (key and tokens kept, as a desktop
    // client persists them; nonces not) meets the resource server's own challenge.
    if (dpopNonces) it('RFC 9449 §9: a restarted client with its key and tokens but no nonce is challenged at /mcp, retries with the nonce, and is served', async () => {
      const restarted = new SdkClient(`${real.origin}/mcp`, { dpop: await DpopSession.create({ keyPair }) });
      restarted.provider.saveClientInformation(sdk.provider.client!);
      restarted.provider.saveTokens(sdk.provider.tokenSet!);
      restarted.provider.saveDiscoveryState(sdk.provider.discoveryState()!);
      try {
        await restarted.connect();
        assert.equal((await restarted.whoami())['username'], E2E_USER.username);
        const [challenged, retried] = restarted.exchanges;
        assert.deepEqual([challenged?.status, challenged?.error, retried?.status], [401, 'use_dpop_nonce', 200], restarted.trace());
        assert.ok(challenged?.responseNonce);
        assert.equal(proofClaims(challenged.proof).nonce, undefined);
        assert.equal(proofClaims(retried!.proof).nonce, challenged.responseNonce);
        assert.ok(!restarted.exchanges.some((e) => e.url.pathname === '/token'), 'the token was still good: no token request');
      } finally {
        await restarted.client?.close().catch(() => {});
      }
    });
  });
}

describe('RFC 9449 §7 mixed clients: a bearer SDK client and a DPoP SDK client on one server', () => {
  let real: RealServer;
  let bearer: SdkClient;
  let bound: SdkClient;
  let session: DpopSession;

  before(async () => {
    real = await startRealServer({ accessTokenTtl: ACCESS_TOKEN_TTL });
    session = await DpopSession.create();
    bearer = new SdkClient(`${real.origin}/mcp`, { clientName: 'Bearer client' });
    bound = new SdkClient(`${real.origin}/mcp`, { clientName: 'DPoP client', dpop: session });
  });
  after(async () => {
    await bearer.client?.close().catch(() => {});
    await bound.client?.close().catch(() => {});
    await real.close();
  });

  it('both sign in and call tools at the same time, each with its own kind of token', async () => {
    await Promise.all([bearer.signIn(), bound.signIn()]);
    assert.equal(bearer.provider.tokenSet?.token_type.toLowerCase(), 'bearer');
    assert.equal(bearer.claims.cnf, undefined, 'a bearer token is bound to nothing');
    assert.equal(bound.provider.tokenSet?.token_type.toLowerCase(), 'dpop');
    assert.equal(bound.claims.cnf?.jkt, session.thumbprint);

    const [a, b] = await Promise.all([bearer.whoami(), bound.whoami()]);
    assert.equal(a['clientId'], bearer.provider.client?.client_id);
    assert.equal(b['clientId'], bound.provider.client?.client_id);
    assert.ok(bearer.exchanges.filter((e) => e.url.pathname === '/mcp' && e.status === 200).every((e) => e.authorization?.startsWith('Bearer ') && e.proof === null));
  });

  it('RFC 9449 §7.2: the DPoP client\'s access token is refused as Bearer and with another key\'s proof; the bearer one as DPoP', async () => {
    const stolen = bound.accessToken;
    const send = (headers: Record<string, string>) => fetch(`${real.origin}/mcp`, { method: 'POST', headers: mcpHeaders(headers), body: JSON.stringify(initializeMessage()) });
    await assertDpopChallenge(await send({ Authorization: `Bearer ${stolen}` }), 'invalid_token');
    const thief = await createDpopClientKey();
    const wrongKey = await send(dpopAuth(stolen, await craftProof(thief, { htu: `${real.origin}/mcp`, accessToken: stolen })));
    assert.equal(wrongKey.status, 401);
    await wrongKey.body?.cancel();
    // And the other way: the bearer client's token is not made DPoP by a proof sent along with it.
    const unbound = bearer.accessToken;
    await assertDpopChallenge(await send(dpopAuth(unbound, await craftProof(thief, { htu: `${real.origin}/mcp`, accessToken: unbound }))), 'invalid_token');
  });

  it('RFC 9449 §5: the public DPoP client\'s refresh token is refused with another key and without one; its holder still refreshes', async () => {
    const metadata = bound.provider.discoveryState()?.authorizationServerMetadata;
    assert.ok(metadata, 'the SDK kept the authorization server metadata');
    // Another public client, knowing the victim's client_id (public), with its own network.
    const thief = new SdkClient(`${real.origin}/mcp`);
    const steal = async (dpop: DpopSession | undefined) => {
      const error = await refreshAuthorization(real.origin, {
        metadata,
        clientInformation: bound.provider.client!,
        refreshToken: bound.provider.tokenSet!.refresh_token!,
        ...(dpop ? { dpop } : {}),
        fetchFn: thief.fetch,
      }).then(
        () => assert.fail('a stolen refresh token must be refused'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof OAuthError, String(error));
      return error.code;
    };
    assert.equal(await steal(await DpopSession.create()), 'invalid_grant');
    assert.equal(await steal(undefined), 'invalid_dpop_proof', 'a key-bound refresh token asks for a proof');

    real.clock.advance((ACCESS_TOKEN_TTL + 1) * 1000);
    const [a, b] = await Promise.all([bearer.whoami(), bound.whoami()]);
    assert.equal(a['username'], E2E_USER.username);
    assert.equal(b['username'], E2E_USER.username);
    assert.equal(bound.claims.cnf?.jkt, session.thumbprint, 'refreshed, still bound to the holder\'s key');
    assert.equal(bearer.claims.cnf, undefined);
  });
});

describe('RFC 9449 §5.2 dpopRequired with the MCP SDK client', () => {
  let real: RealServer;
  before(async () => {
    real = await startRealServer({ dpopRequired: true });
  });
  after(async () => {
    await real.close();
  });

  it('a bearer SDK client is refused with a clear invalid_dpop_proof at the token endpoint, not left hanging', { timeout: 15_000 }, async () => {
    const bearer = new SdkClient(`${real.origin}/mcp`);
    await assert.rejects(bearer.connect(), (e: unknown) => e instanceof UnauthorizedError);
    const callback = await bearer.authorizeInBrowser();
    const refused = await bearer.transport!.finishAuth(callback).then(
      () => assert.fail('a client without DPoP must not get a token'),
      (e: unknown) => e,
    );
    assert.ok(refused instanceof OAuthError, String(refused));
    assert.equal(refused.code, 'invalid_dpop_proof');
    assert.equal(bearer.provider.tokenSet, undefined);
  });

  it('a DPoP SDK client signs in and calls tools', async () => {
    const prm = (await (await fetch(`${real.origin}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>;
    assert.equal(prm['dpop_bound_access_tokens_required'], true);
    const bound = new SdkClient(`${real.origin}/mcp`, { dpop: await DpopSession.create() });
    try {
      await bound.signIn();
      assert.equal(bound.provider.tokenSet?.token_type.toLowerCase(), 'dpop');
      assert.equal((await bound.whoami())['username'], E2E_USER.username);
    } finally {
      await bound.client?.close().catch(() => {});
    }
  });
});
