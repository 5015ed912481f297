import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import type { InMemoryOAuthProvider } from '../helpers/e2e.ts';
import { assertDpopChallenge, craftProof, createDpopClientKey, dpopAuth, type DpopClientKey } from '../dpop/dpop-client.ts';
import { errorCode } from '../dpop/sdk-client.ts';
import { initializeMessage, mcpHeaders, rpcResult } from '../mcp/wire.ts';
import { startWorker, type WorkerServer } from './harness.ts';
import { mcpClient, signInWithSdk } from './sign-in.ts';

/**
 * RFC 9449 on Cloudflare Workers: the Worker bundle under workerd (Miniflare) on D1, with server
 * nonces on, reached over a real socket. The MCP SDK client signs in with its own DPoP session (the
 * code redeemed with a proof, after the nonce challenge); then proofs made here by the same key (jose)
 * show what the Worker refuses: a replayed proof, on this isolate or another one (its jti is spent in
 * D1's used_assertions, which every isolate shares), the token as Bearer, and the refresh token with
 * another key.
 */

const ADMIN = { username: 'admin', password: 'a long admin password for dpop on workers' } as const;

interface Exchange {
  path: string;
  status: number;
  error: string | undefined;
  authorization: string | null;
  proof: string | null;
}

/** The SDK's fetch: real sockets, every exchange recorded with the OAuth error it got. */
function recordingFetch(exchanges: Exchange[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const response = await fetch(request);
    const error = response.status >= 400 ? await errorCode(response.clone()) : undefined;
    exchanges.push({ path: new URL(request.url).pathname, status: response.status, error, authorization: request.headers.get('Authorization'), proof: request.headers.get('DPoP') });
    return response;
  };
}

describe('RFC 9449 DPoP on Cloudflare Workers (workerd, D1), server nonces on', () => {
  let worker: WorkerServer;
  let key: DpopClientKey;
  let provider: InMemoryOAuthProvider;
  const exchanges: Exchange[] = [];

  const mcpUrl = () => `${worker.origin}/mcp`;
  const tokenUrl = () => `${worker.origin}/token`;
  const callMcp = (token: string, proof: string, through: typeof fetch = fetch) =>
    through(mcpUrl(), { method: 'POST', headers: mcpHeaders(dpopAuth(token, proof)), body: JSON.stringify(initializeMessage()) });
  const refresh = (proof: string) =>
    fetch(tokenUrl(), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: proof },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: provider.tokenSet!.refresh_token!, client_id: provider.client!.client_id }),
    });
  const oauthError = async (response: Response) => ((await response.json()) as { error: string }).error;

  before(async () => {
    worker = await startWorker({ vars: { PORTCULLIS_INITIAL_ADMIN_PASSWORD: ADMIN.password, PORTCULLIS_DPOP_NONCES: 'true' }, replicas: 1 });
    key = await createDpopClientKey();
  });
  after(() => worker.close());

  it('RFC 9449 §5, §8: the SDK redeems the code with a proof (after one nonce challenge) and gets a DPoP token bound to its key, the binding kept in D1', async () => {
    provider = await signInWithSdk(worker, ADMIN, { dpop: key.session, fetch: recordingFetch(exchanges) });
    assert.equal(provider.tokenSet?.token_type.toLowerCase(), 'dpop');
    // The thumbprint computed here from the public key, not the one the SDK reports.
    const jkt = await calculateJwkThumbprint(key.keyPair.publicJwk, 'sha256');
    assert.deepEqual(decodeJwt(provider.tokenSet!.access_token).cnf, { jkt });
    const tokenRequests = exchanges.filter((e) => e.path === '/token');
    assert.deepEqual(tokenRequests.map((e) => `${e.status} ${e.error ?? ''}`.trim()), ['400 use_dpop_nonce', '200']);
    assert.ok(tokenRequests.every((e) => e.proof), 'both token requests carried a proof');
    // The public client's grant is bound to the key, which its refresh tokens will need (D1's batch wrote the column).
    const db = await worker.mf.getD1Database('DB');
    const grant = await db.prepare('select dpop_jkt from grants where client_id = ?').bind(provider.client!.client_id).first<{ dpop_jkt: string | null }>();
    assert.equal(grant?.dpop_jkt, jkt);
  });

  it('RFC 9449 §7.1: the SDK calls tools with Authorization: DPoP and a proof on each request', async () => {
    const { client, transport } = mcpClient(worker, provider, '2026-07-28', recordingFetch(exchanges));
    try {
      await client.connect(transport);
      const me = (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as Record<string, unknown>;
      assert.equal(me['username'], ADMIN.username);
      assert.equal(me['clientId'], provider.client?.client_id);
    } finally {
      await client.close();
    }
    const served = exchanges.filter((e) => e.path === '/mcp' && e.status === 200);
    assert.ok(served.length > 0 && served.every((e) => e.authorization === `DPoP ${provider.tokenSet!.access_token}` && e.proof));
  });

  it('RFC 9449 §9, §11.1: a proof without the nonce is challenged; with it, served once; the same proof again is refused by every isolate (jti spent in D1)', async () => {
    const token = provider.tokenSet!.access_token;
    const noNonce = await callMcp(token, await craftProof(key, { htu: mcpUrl(), accessToken: token }));
    await assertDpopChallenge(noNonce, 'use_dpop_nonce');
    const nonce = noNonce.headers.get('DPoP-Nonce');
    assert.ok(nonce, 'the challenge hands out a nonce');

    const db = await worker.mf.getD1Database('DB');
    const spentJtis = async () => (await db.prepare("select count(*) as n from used_assertions where key like 'dpop:%'").first<{ n: number }>())?.n ?? 0;
    const before = await spentJtis();
    const proof = await craftProof(key, { htu: mcpUrl(), accessToken: token, nonce });
    const first = await callMcp(token, proof);
    assert.equal(first.status, 200);
    assert.ok((await rpcResult(first)).result, 'initialize answered');
    // The other isolate has never seen this proof: only D1 can tell it the jti is spent.
    await assertDpopChallenge(await callMcp(token, proof, worker.replicaFetch(1)), 'invalid_dpop_proof');
    await assertDpopChallenge(await callMcp(token, proof), 'invalid_dpop_proof');

    // That isolate serves a fresh proof (with the nonce the first one handed out), so the refusal was the replay.
    const fresh = await callMcp(token, await craftProof(key, { htu: mcpUrl(), accessToken: token, nonce }), worker.replicaFetch(1));
    assert.equal(fresh.status, 200);
    await fresh.body?.cancel();
    assert.equal(await spentJtis(), before + 2, 'one row in D1 for each accepted proof');
  });

  it('RFC 9449 §7.2: the DPoP-bound token sent as Bearer is refused', async () => {
    const response = await fetch(mcpUrl(), { method: 'POST', headers: mcpHeaders({ Authorization: `Bearer ${provider.tokenSet!.access_token}` }), body: JSON.stringify(initializeMessage()) });
    await assertDpopChallenge(response, 'invalid_token');
  });

  it('RFC 9449 §5: the public client\'s refresh token is refused with another key; its own key refreshes (after a nonce challenge), still bound', async () => {
    const jkt = await calculateJwkThumbprint(key.keyPair.publicJwk, 'sha256');
    const challenge = await refresh(await craftProof(key, { htu: tokenUrl() }));
    assert.equal(challenge.status, 400);
    assert.equal(await oauthError(challenge), 'use_dpop_nonce');
    const nonce = challenge.headers.get('DPoP-Nonce');
    assert.ok(nonce);

    const thief = await createDpopClientKey();
    const stolen = await refresh(await craftProof(thief, { htu: tokenUrl(), nonce }));
    assert.equal(stolen.status, 400);
    assert.equal(await oauthError(stolen), 'invalid_grant');

    const refreshed = await refresh(await craftProof(key, { htu: tokenUrl(), nonce }));
    assert.equal(refreshed.status, 200);
    const tokens = (await refreshed.json()) as { access_token: string; token_type: string; refresh_token: string };
    assert.equal(tokens.token_type, 'DPoP');
    assert.deepEqual(decodeJwt(tokens.access_token).cnf, { jkt });
    assert.notEqual(tokens.refresh_token, provider.tokenSet!.refresh_token, 'rotated');
    const call = await callMcp(tokens.access_token, await craftProof(key, { htu: mcpUrl(), accessToken: tokens.access_token, nonce }));
    assert.equal(call.status, 200);
    await call.body?.cancel();
  });
});
