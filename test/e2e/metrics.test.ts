import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { resolveConfig } from '../../src/config/resolve.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createUser } from '../../src/identity/users.ts';
import { createJsonLogger, createMemoryLogger } from '../../src/log/logger.ts';
import { startNodeServer, type NodeServer } from '../../src/runtime/node.ts';
import { systemRandom } from '../../src/util/crypto.ts';
import { E2E_USER, InMemoryOAuthProvider } from '../helpers/e2e.ts';
import { authorizeWithForms, cookieJar, FlowError } from '../helpers/oauth-flow.ts';
import { createGatewayApp, signInToGateway } from '../gateway/helpers.ts';
import { initializeMessage, post } from '../mcp/wire.ts';

/** Issue 12 part 5: Prometheus metrics and request lines, read after real traffic. */

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

/** The value of one series in Prometheus text, e.g. `portcullis_tokens_issued_total{grant_type="authorization_code"}`; 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function startServer(config: ConfigInput): Promise<{ server: NodeServer; origin: string; logger: ReturnType<typeof createMemoryLogger>; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-metrics-'));
  const logger = createMemoryLogger();
  const server = await startNodeServer(resolveConfig({ host: '127.0.0.1', port: 0, database: join(dir, 'p.db'), ...config }), { handleSignals: false, logger });
  return {
    server,
    origin: server.config.issuer,
    logger,
    async cleanup() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('/metrics after a real flow: the MCP SDK client registers, signs in, calls a tool, refreshes, replays', () => {
  let s: Awaited<ReturnType<typeof startServer>>;
  const provider = new InMemoryOAuthProvider();
  let metrics = '';
  let spentRefreshToken = '';
  let freshRefreshToken = '';

  before(async () => {
    s = await startServer({ metrics: { enabled: true, token: METRICS_TOKEN }, refreshGracePeriod: 0 });
    await createUser(s.server.portcullis.ctx.storage, E2E_USER, { now: Date.now(), random: systemRandom });
    const mcpUrl = new URL('/mcp', s.origin);
    const connect = async () => {
      const client = new Client({ name: 'metrics-e2e', version: '1' });
      const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
      return { client, transport, connected: client.connect(transport) };
    };
    const first = await connect();
    await assert.rejects(first.connected, (e: unknown) => e instanceof UnauthorizedError);
    const authorizationUrl = provider.authorizationUrls.at(-1)!;
    // One wrong password first: a login failure to count.
    await assert.rejects(authorizeWithForms({ fetch, authorizationUrl, username: E2E_USER.username, password: 'wrong password' }), (e: unknown) => e instanceof FlowError);
    const callback = await authorizeWithForms({ fetch, authorizationUrl, ...E2E_USER, jar: cookieJar() });
    await first.transport.finishAuth(callback.searchParams);
    const second = await connect();
    await second.connected;
    assert.equal(((await second.client.callTool({ name: 'whoami', arguments: {} })).structuredContent as { username: string }).username, E2E_USER.username);
    await second.client.close();

    // A refresh, then the spent refresh token again: reuse, which revokes the grant.
    spentRefreshToken = provider.tokenSet!.refresh_token!;
    const refresh = (token: string) =>
      fetch(new URL('/token', s.origin), { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: provider.client!.client_id }) });
    const refreshed = await refresh(spentRefreshToken);
    assert.equal(refreshed.status, 200);
    freshRefreshToken = ((await refreshed.json()) as { refresh_token: string }).refresh_token;
    assert.equal((await refresh(spentRefreshToken)).status, 400);

    const scrape = await fetch(new URL('/metrics', s.origin), { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    metrics = await scrape.text();
  });
  after(() => s.cleanup());

  it('counts tokens by grant type, the registration, the failed login and the refresh reuse', () => {
    assert.equal(sample(metrics, 'portcullis_client_registrations_total{reused="false"}'), 1);
    assert.equal(sample(metrics, 'portcullis_tokens_issued_total{grant_type="authorization_code"}'), 1);
    assert.equal(sample(metrics, 'portcullis_tokens_issued_total{grant_type="refresh_token"}'), 1);
    assert.equal(sample(metrics, 'portcullis_refresh_token_reuse_total'), 1);
    assert.equal(sample(metrics, 'portcullis_login_failures_total{reason="wrong_password"}'), 1);
  });

  it('counts requests by route pattern, method and status', () => {
    assert.equal(sample(metrics, 'portcullis_http_requests_total{route="/register",method="POST",status="201"}'), 1);
    assert.equal(sample(metrics, 'portcullis_http_requests_total{route="/token",method="POST",status="200"}'), 2, 'the code exchange and the refresh');
    assert.equal(sample(metrics, 'portcullis_http_requests_total{route="/token",method="POST",status="400"}'), 1, 'the replay');
    assert.ok(sample(metrics, 'portcullis_http_requests_total{route="/mcp",method="POST",status="401"}') >= 1);
    assert.ok(sample(metrics, 'portcullis_http_requests_total{route="/mcp",method="POST",status="200"}') >= 2);
    assert.ok(sample(metrics, 'portcullis_http_request_duration_seconds_count{route="/token"}') >= 3);
  });

  it('times storage operations by their contract names', () => {
    assert.equal(sample(metrics, 'portcullis_storage_operation_duration_seconds_count{operation="authorizationCodes.redeem"}'), 1);
    assert.equal(sample(metrics, 'portcullis_storage_operation_duration_seconds_count{operation="refreshTokens.rotate"}'), 2);
    assert.ok(sample(metrics, 'portcullis_storage_operation_duration_seconds_count{operation="rateLimits.hit"}') >= 4);
  });

  it('carries no client id, token or address in any label (bounded series, nothing secret)', () => {
    for (const secret of [provider.client!.client_id, spentRefreshToken, freshRefreshToken, provider.tokenSet!.access_token, METRICS_TOKEN, '127.0.0.1']) {
      assert.ok(!metrics.includes(secret), `metrics contain ${secret.slice(0, 12)}…`);
    }
  });

  it('needs the metrics token: 401 without it or with another', async () => {
    for (const headers of [{}, { Authorization: 'Bearer not-the-token-0123456789' }, { Authorization: `Basic ${METRICS_TOKEN}` }] as Record<string, string>[]) {
      const refused = await fetch(new URL('/metrics', s.origin), { headers });
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="metrics"');
      assert.doesNotMatch(await refused.text(), /portcullis_/);
    }
  });

  it('writes one request line per request: method, path without query, status, duration, client id; OAuth errors carry code and client', () => {
    const lines = s.logger.records().filter((r) => r.msg === 'request');
    const clientId = provider.client!.client_id;
    const tokenLines = lines.filter((r) => r.path === '/token');
    assert.equal(tokenLines.length, 3);
    for (const line of tokenLines) {
      assert.equal(line.method, 'POST');
      assert.equal(line.client_id, clientId);
      assert.equal(typeof line.duration_ms, 'number');
    }
    assert.deepEqual(tokenLines.map((l) => [l.status, l.error]), [[200, undefined], [200, undefined], [400, 'invalid_grant']]);
    const authorize = lines.find((r) => r.path === '/authorize');
    assert.equal(authorize?.client_id, clientId, 'the client named in the authorization request');
    assert.ok(lines.some((r) => r.path === '/mcp' && r.status === 200 && r.client_id === clientId), 'the client of the access token');
    assert.ok(lines.every((r) => !String(r.path).includes('?')));
    const text = s.logger.lines.join('\n');
    for (const secret of [spentRefreshToken, freshRefreshToken, provider.tokenSet!.access_token, E2E_USER.password, METRICS_TOKEN]) assert.ok(!text.includes(secret));
  });
});

describe('where /metrics is served', () => {
  it('off by default: /metrics is 404 and nothing is counted', async () => {
    const s = await startServer({});
    try {
      assert.equal((await fetch(new URL('/metrics', s.origin))).status, 404);
      assert.equal(s.server.portcullis.ctx.metrics, undefined);
      // The request lines are written with or without metrics; healthy probes only at debug level.
      assert.equal((await fetch(new URL('/healthz', s.origin))).status, 200);
      const lines = s.logger.records().filter((r) => r.msg === 'request');
      assert.deepEqual(lines.map((r) => [r.path, r.status, r.level]), [['/metrics', 404, 'info'], ['/healthz', 200, 'debug']]);
    } finally {
      await s.cleanup();
    }
  });

  it('with metrics.port, on its own listener only (no token needed there), and not on the main one', async () => {
    const s = await startServer({ metrics: { enabled: true, port: 0 } });
    try {
      assert.equal((await fetch(new URL('/metrics', s.origin))).status, 404);
      const own = `http://${s.server.metricsListening}`;
      assert.match(own, /^http:\/\/127\.0\.0\.1:\d+$/);
      await fetch(new URL('/healthz', s.origin));
      const scrape = await fetch(`${own}/metrics`);
      assert.equal(scrape.status, 200);
      assert.equal(sample(await scrape.text(), 'portcullis_http_requests_total{route="/healthz",method="GET",status="200"}'), 1);
      assert.equal((await fetch(`${own}/authorize`)).status, 404);
    } finally {
      await s.cleanup();
    }
  });

  it('on the main listener without a token, start warns naming the variables', async () => {
    const s = await startServer({ metrics: { enabled: true } });
    try {
      assert.ok(s.logger.records().some((r) => r.level === 'warn' && /PORTCULLIS_METRICS_TOKEN or PORTCULLIS_METRICS_PORT/.test(String(r.msg))));
      assert.equal((await fetch(new URL('/metrics', s.origin))).status, 200);
    } finally {
      await s.cleanup();
    }
  });
});

describe('gateway metrics: upstream latency and errors', () => {
  let upstream: Server;
  let upstreamUrl = '';
  before(async () => {
    // An upstream that answers every request with 503: the gateway reports it unavailable (502).
    upstream = createServer((_, res) => res.writeHead(503).end());
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`;
  });
  after(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

  it('a failing upstream is timed and counted as an error by status', async () => {
    const t = await createGatewayApp({ url: upstreamUrl }, { metrics: { enabled: true } });
    try {
      const { auth } = await signInToGateway(t);
      const answer = await post(t, initializeMessage(), auth);
      assert.equal(answer.status, 502);
      const text = await t.ctx.metrics!.registry.metrics();
      assert.equal(sample(text, 'portcullis_gateway_upstream_errors_total{transport="http",status="502"}'), 1);
      assert.equal(sample(text, 'portcullis_gateway_upstream_duration_seconds_count{transport="http"}'), 1);
    } finally {
      await t.close();
    }
  });
});

describe('LOG_FORMAT=pretty', () => {
  it('one readable line per record, the same fields redacted', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ format: 'pretty', write: (l) => lines.push(l), now: () => Date.parse('2026-12-04T07:08:09.123Z') });
    logger.warn('request', { method: 'POST', path: '/token', status: 400, client_id: 'cli_1', error: 'invalid grant', refresh_token: 'pcr_abcdefghijklmnopqrstuvwxyz' });
    assert.equal(lines[0], '07:08:09.123 WARN  request method=POST path=/token status=400 client_id=cli_1 error="invalid grant" refresh_token=[redacted]');
    assert.equal(resolveConfig({ logFormat: 'pretty' }).logFormat, 'pretty');
  });
});
