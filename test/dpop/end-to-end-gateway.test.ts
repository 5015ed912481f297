/**
 * RFC 9449 end to end in gateway mode: Portcullis in front of a real upstream MCP server (the official
 * SDK's, on loopback), and the official MCP SDK client with its own DPoP signing in to the gateway's
 * authorization server, calling the upstream's tools and refreshing. The DPoP credential is for the
 * gateway alone (MCP RS-19): the upstream sees neither the client's token nor its proofs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DpopSession } from '@modelcontextprotocol/client';
import { startHttpUpstream, type HttpUpstream } from '../fixtures/upstream/http-server.ts';
import { startRealServer, type RealServer } from '../helpers/e2e.ts';
import { SdkClient } from './sdk-client.ts';

const ACCESS_TOKEN_TTL = 60;

describe('RFC 9449 through the gateway with the MCP SDK client (RS-19)', () => {
  let upstream: HttpUpstream;
  let gateway: RealServer;
  let session: DpopSession;
  let sdk: SdkClient;

  before(async () => {
    // No gateway credential either: any Authorization upstream could only be the client's.
    upstream = await startHttpUpstream();
    gateway = await startRealServer({ upstream: { url: upstream.url }, mcpSessionIdleTtl: 60, accessTokenTtl: ACCESS_TOKEN_TTL }, { fetch: globalThis.fetch });
    session = await DpopSession.create();
    sdk = new SdkClient(`${gateway.origin}/mcp`, { dpop: session });
  });
  after(async () => {
    await sdk.client?.close().catch(() => {});
    await gateway.close();
    await upstream.close();
  });

  const echo = async (text: string) => {
    const result = await sdk.client!.callTool({ name: 'echo', arguments: { text } });
    return (result.content as Array<{ text?: string }>)[0]?.text;
  };

  it('signs in to the gateway\'s authorization server with DPoP and calls the upstream\'s tools', async () => {
    await sdk.signIn();
    assert.equal(sdk.provider.tokenSet?.token_type.toLowerCase(), 'dpop');
    assert.equal(sdk.claims.cnf?.jkt, session.thumbprint);
    const names = (await sdk.client!.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('echo'), names.join(' '));
    assert.equal(await echo('bound'), 'echo: bound');
    assert.ok(sdk.exchanges.filter((e) => e.url.pathname === '/mcp' && e.status === 200).every((e) => e.authorization?.startsWith('DPoP ') && e.proof));
  });

  it('refreshes with a proof at the gateway once the access token expires, and calls the upstream again', async () => {
    const token = sdk.accessToken;
    gateway.clock.advance((ACCESS_TOKEN_TTL + 1) * 1000);
    assert.equal(await echo('refreshed'), 'echo: refreshed');
    assert.notEqual(sdk.accessToken, token);
    assert.equal(sdk.claims.cnf?.jkt, session.thumbprint);
    assert.ok(sdk.exchanges.some((e) => e.url.pathname === '/token' && e.status === 200 && new URLSearchParams(e.body).get('grant_type') === 'refresh_token' && e.proof));
  });

  it('RS-19: the upstream never saw an Authorization or DPoP header, a token or a proof', () => {
    assert.ok(upstream.requests.some((r) => r.body.includes('"echo"')), 'the calls reached the upstream');
    const secrets = sdk.exchanges.flatMap((e) => [e.authorization?.replace(/^DPoP /, ''), e.proof]).filter((s): s is string => Boolean(s));
    assert.ok(secrets.length > 0);
    for (const request of upstream.requests) {
      assert.equal(request.headers['authorization'], undefined);
      assert.equal(request.headers['dpop'], undefined);
      const seen = JSON.stringify(request);
      assert.ok(secrets.every((s) => !seen.includes(s)), 'no token or proof of the client anywhere upstream');
    }
  });
});
