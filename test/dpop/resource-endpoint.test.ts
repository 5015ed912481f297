import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRealServer, type RealServer } from '../helpers/e2e.ts';
import { connectWithToken } from '../gateway/helpers.ts';
import { initializeMessage, mcpHeaders, toolCallMessage } from '../mcp/wire.ts';
import { parseChallenge, signIn } from '../resource/fixtures.ts';
import { assertDpopChallenge, connectWithDpop, craftProof, createDpopClientKey, dpopAuth, type DpopClientKey } from './dpop-client.ts';

/**
 * RFC 9449 §7 at Portcullis's own MCP endpoint, over a real loopback socket: a DPoP-bound token
 * (`cnf.jkt`) is accepted only as `Authorization: DPoP` with a proof for this request by the bound
 * key; every way a proof can be wrong is refused with a `DPoP` challenge; bearer clients keep working.
 */
describe('DPoP at the MCP endpoint (RFC 9449 §7)', () => {
  let server: RealServer;
  let mcpUrl: string;
  let key: DpopClientKey;
  let bound: string;

  before(async () => {
    server = await startRealServer();
    mcpUrl = server.portcullis.ctx.config.resource;
    key = await createDpopClientKey();
    bound = (await signIn(server.portcullis, { dpopJkt: key.jkt })).token;
  });
  after(() => server.close());

  const send = (headers: Record<string, string>, body: unknown = initializeMessage()) => fetch(mcpUrl, { method: 'POST', headers: mcpHeaders(headers), body: JSON.stringify(body) });
  const proofFor = (claims: Partial<Parameters<typeof craftProof>[1]> = {}, by = key) => craftProof(by, { htu: mcpUrl, accessToken: bound, ...claims });

  it('§7.1 a DPoP-bound token with good proofs: the MCP SDK client (withDpop) lists and calls tools', async () => {
    const client = await connectWithDpop(mcpUrl, key, bound);
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((tool) => tool.name === 'list_tasks'));
      const result = await client.callTool({ name: 'list_tasks', arguments: {} });
      assert.notEqual(result.isError, true);
    } finally {
      await client.close();
    }
  });

  it('§7.2 bearer clients keep working beside DPoP ones when DPoP is not required', async () => {
    const bearer = await signIn(server.portcullis);
    const { client } = await connectWithToken(mcpUrl, bearer.token);
    try {
      assert.ok((await client.listTools()).tools.length > 0);
    } finally {
      await client.close();
    }
  });

  it('§11.1 a replayed proof is refused: the same proof twice', async () => {
    const proof = await proofFor();
    const first = await send(dpopAuth(bound, proof));
    assert.equal(first.status, 200);
    await first.body?.cancel();
    await assertDpopChallenge(await send(dpopAuth(bound, proof)), 'invalid_dpop_proof');
  });

  it('§7.1 a proof by another key than the token is bound to is refused (invalid_token)', async () => {
    const other = await createDpopClientKey();
    await assertDpopChallenge(await send(dpopAuth(bound, await proofFor({}, other))), 'invalid_token');
  });

  it('§4.3 wrong htu (another host, another path) or htm is refused', async () => {
    await assertDpopChallenge(await send(dpopAuth(bound, await proofFor({ htu: 'https://evil.example/mcp' }))), 'invalid_dpop_proof');
    await assertDpopChallenge(await send(dpopAuth(bound, await proofFor({ htu: new URL('/token', mcpUrl).href }))), 'invalid_dpop_proof');
    await assertDpopChallenge(await send(dpopAuth(bound, await proofFor({ htm: 'GET' }))), 'invalid_dpop_proof');
  });

  it('§4.3 item 11 / §7.1 a missing or wrong ath is refused', async () => {
    await assertDpopChallenge(await send(dpopAuth(bound, await proofFor({ ath: null }))), 'invalid_dpop_proof');
    await assertDpopChallenge(await send(dpopAuth(bound, await proofFor({ accessToken: bound + 'x' }))), 'invalid_dpop_proof');
  });

  it('§4.3 item 9 a stale iat (10 minutes old) and one from the future are refused', async () => {
    const now = Math.floor(server.clock.now() / 1000);
    await assertDpopChallenge(await send(dpopAuth(bound, await proofFor({ iat: now - 600 }))), 'invalid_dpop_proof');
    await assertDpopChallenge(await send(dpopAuth(bound, await proofFor({ iat: now + 600 }))), 'invalid_dpop_proof');
  });

  it('§7.1 the DPoP scheme without a proof is refused', async () => {
    await assertDpopChallenge(await send({ Authorization: `DPoP ${bound}` }), 'invalid_dpop_proof');
  });

  it('§7.2 a DPoP-bound token presented as Bearer is refused, with a DPoP challenge', async () => {
    await assertDpopChallenge(await send({ Authorization: `Bearer ${bound}` }), 'invalid_token');
  });

  it('§7.1 a bearer (unbound) token under the DPoP scheme is refused, even with a good proof', async () => {
    const bearer = (await signIn(server.portcullis)).token;
    await assertDpopChallenge(await send(dpopAuth(bearer, await proofFor({ accessToken: bearer }))), 'invalid_token');
  });

  it('§7.1 a DPoP token lacking scope gets 403 insufficient_scope under the DPoP scheme', async () => {
    const response = await send(dpopAuth(bound, await proofFor()), toolCallMessage('create_task', { title: 'nope' }));
    const params = await assertDpopChallenge(response, 'insufficient_scope', 403);
    assert.equal(params['scope'], 'tasks:write');
  });

  it('RFC 9728 §2 the PRM lists the proof algorithms, and no requirement when DPoP is optional; no credentials: the Bearer challenge as before', async () => {
    const prm = (await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', mcpUrl))).json()) as Record<string, unknown>;
    assert.deepEqual(prm['dpop_signing_alg_values_supported'], ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256']);
    assert.equal(prm['dpop_bound_access_tokens_required'], undefined);
    const none = await send({});
    assert.equal(none.status, 401);
    assert.equal(parseChallenge(none.headers.get('WWW-Authenticate')).scheme, 'Bearer');
    await none.body?.cancel();
  });

  it('CORS: a browser may send DPoP and read DPoP-Nonce and WWW-Authenticate', async () => {
    const origin = new URL(mcpUrl).origin;
    const preflight = await fetch(mcpUrl, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, dpop, content-type' } });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('Access-Control-Allow-Headers') ?? '', /\bdpop\b/i);
    const refused = await send({ Origin: origin, Authorization: `DPoP ${bound}` });
    assert.match(refused.headers.get('Access-Control-Expose-Headers') ?? '', /\bDPoP-Nonce\b/);
    assert.match(refused.headers.get('Access-Control-Expose-Headers') ?? '', /\bWWW-Authenticate\b/);
    await refused.body?.cancel();
  });
});

describe('DPoP server nonces at the MCP endpoint (RFC 9449 §9)', () => {
  let server: RealServer;
  let mcpUrl: string;
  let key: DpopClientKey;
  let bound: string;

  before(async () => {
    server = await startRealServer({ dpopNonces: true });
    mcpUrl = server.portcullis.ctx.config.resource;
    key = await createDpopClientKey();
    bound = (await signIn(server.portcullis, { dpopJkt: key.jkt })).token;
  });
  after(() => server.close());

  const send = (headers: Record<string, string>) => fetch(mcpUrl, { method: 'POST', headers: mcpHeaders(headers), body: JSON.stringify(initializeMessage()) });

  it('§9 a proof without a nonce gets 401 use_dpop_nonce and a DPoP-Nonce; the retry with it succeeds; a made-up nonce is refused', async () => {
    const first = await send(dpopAuth(bound, await craftProof(key, { htu: mcpUrl, accessToken: bound })));
    const nonce = first.headers.get('DPoP-Nonce');
    await assertDpopChallenge(first, 'use_dpop_nonce');
    assert.ok(nonce, 'DPoP-Nonce header');
    const retry = await send(dpopAuth(bound, await craftProof(key, { htu: mcpUrl, accessToken: bound, nonce })));
    assert.equal(retry.status, 200);
    await retry.body?.cancel();
    const forged = await send(dpopAuth(bound, await craftProof(key, { htu: mcpUrl, accessToken: bound, nonce: nonce.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) })));
    await assertDpopChallenge(forged, 'use_dpop_nonce');
  });

  it('§9 the MCP SDK client picks up the nonce from the challenge and retries by itself', async () => {
    // A client whose key is not the bound one cannot get in, nonce or not.
    await assert.rejects(connectWithDpop(mcpUrl, await createDpopClientKey(), bound));
    const good = await connectWithDpop(mcpUrl, key, bound);
    try {
      assert.ok((await good.listTools()).tools.length > 0);
    } finally {
      await good.close();
    }
  });
});

describe('DPoP required (dpopRequired, RFC 9449 §7.1, RFC 9728 §2)', () => {
  let server: RealServer;
  let mcpUrl: string;

  before(async () => {
    server = await startRealServer({ dpopRequired: true });
    mcpUrl = server.portcullis.ctx.config.resource;
  });
  after(() => server.close());

  const send = (headers: Record<string, string>) => fetch(mcpUrl, { method: 'POST', headers: mcpHeaders(headers), body: JSON.stringify(initializeMessage()) });

  it('RFC 9728 §2 the PRM says dpop_bound_access_tokens_required', async () => {
    const prm = (await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', mcpUrl))).json()) as Record<string, unknown>;
    assert.equal(prm['dpop_bound_access_tokens_required'], true);
  });

  it('no credentials: a DPoP challenge (no error) naming the algorithms, the PRM and the scope to ask for', async () => {
    const params = await assertDpopChallenge(await send({}), undefined);
    assert.equal(params['scope'], server.portcullis.ctx.config.defaultScopes.join(' '));
  });

  it('a bearer token is refused with a DPoP challenge; a DPoP-bound token with its proof gets in', async () => {
    const bearer = await signIn(server.portcullis);
    await assertDpopChallenge(await send(bearer.auth), 'invalid_token');
    const key = await createDpopClientKey();
    const bound = (await signIn(server.portcullis, { dpopJkt: key.jkt })).token;
    const client = await connectWithDpop(mcpUrl, key, bound);
    try {
      assert.ok((await client.listTools()).tools.length > 0);
    } finally {
      await client.close();
    }
  });
});
