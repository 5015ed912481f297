import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { issueAccessToken } from '../../src/authorization/access-token.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { startNodeServer, type NodeServer } from '../../src/runtime/node.ts';
import { clientRecord, grantRecord, userRecord } from '../helpers/records.ts';
import { runCli } from './helpers.ts';

/** A real Portcullis on a loopback port; `publicUrl` as an operator would set PORTCULLIS_PUBLIC_URL. */
async function portcullis(publicUrl?: string, config: Parameters<typeof resolveConfig>[0] = {}): Promise<NodeServer & { port: number }> {
  const server = await startNodeServer(resolveConfig({ port: 0, database: ':memory:', ...config, ...(publicUrl ? { publicUrl } : {}) }), { handleSignals: false, shutdownGraceMs: 200, logger: silentLogger });
  return Object.assign(server, { port: Number(server.listening.split(':').pop()) });
}

/** A loopback port nothing listens on (fetch refuses well-known ports such as 1 outright). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface ProxyFaults {
  /** Response headers the proxy removes (lower case). */
  drop?: readonly string[];
  /** Response headers the proxy sets or overwrites. */
  set?: Record<string, string>;
  /** Reads the whole upstream response before answering, with a Content-Length, as a buffering proxy does. */
  buffer?: boolean;
  /** Text replaced in response bodies (nginx `sub_filter`); implies buffering the body. */
  rewrite?: (body: string) => string;
  /** Stripped from the start of the request path before forwarding, as `location /app/ { proxy_pass …/; }` does. */
  stripPrefix?: string;
  /** Paths starting with this get a 404 from the proxy itself (a `location` the operator did not route). */
  notRouted?: string;
}

/** A small reverse proxy over real sockets, misconfigured in the ways `faults` names. */
async function reverseProxy(faults: ProxyFaults): Promise<{ port: number; forwardTo(port: number): void; close(): Promise<void> }> {
  let upstream = 0;
  const server: Server = createServer((req, res) => {
    let path = req.url ?? '/';
    if (faults.notRouted && path.startsWith(faults.notRouted)) return void res.writeHead(404).end('not found');
    if (faults.stripPrefix && path.startsWith(faults.stripPrefix)) path = path.slice(faults.stripPrefix.length) || '/';
    const forwarded = request({ host: '127.0.0.1', port: upstream, method: req.method, path, headers: req.headers }, (upstreamRes) => {
      const headers: IncomingHttpHeaders = { ...upstreamRes.headers };
      for (const name of faults.drop ?? []) delete headers[name];
      Object.assign(headers, faults.set ?? {});
      if (!faults.buffer && !faults.rewrite) {
        res.writeHead(upstreamRes.statusCode ?? 502, headers);
        upstreamRes.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
      upstreamRes.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body = Buffer.from(faults.rewrite ? faults.rewrite(text) : text);
        delete headers['transfer-encoding'];
        res.writeHead(upstreamRes.statusCode ?? 502, { ...headers, 'content-length': String(body.length) }).end(body);
      });
    });
    forwarded.on('error', () => void (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    // The client gave up (doctor's timeout): so does the proxy, as nginx does.
    res.on('close', () => forwarded.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    forwardTo: (port) => void (upstream = port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Portcullis behind a proxy, its public URL set to the proxy's origin as an operator would. */
async function behindProxy(faults: ProxyFaults) {
  const proxy = await reverseProxy(faults);
  const server = await portcullis(`http://localhost:${proxy.port}`);
  proxy.forwardTo(server.port);
  return { proxy, server, close: async () => (await proxy.close(), await server.close()) };
}

/** An access token for the server's MCP URL, minted by the real token code for a real user, client and grant. */
async function accessToken(server: NodeServer): Promise<string> {
  const { ctx } = server.portcullis;
  const now = ctx.clock.now();
  await ctx.storage.users.create(userRecord({ id: 'usr_doctor', username: 'doctor', createdAt: now }));
  await ctx.storage.clients.create(clientRecord({ clientId: 'cli_doctor', clientName: 'Doctor', createdAt: now }));
  await ctx.storage.grants.create(grantRecord({ id: 'grt_doctor', userId: 'usr_doctor', clientId: 'cli_doctor', scopes: ['tasks:read'], resource: ctx.config.resource, createdAt: now }));
  return (await issueAccessToken(ctx, { subject: 'usr_doctor', clientId: 'cli_doctor', scopes: ['tasks:read'], resource: ctx.config.resource, grantId: 'grt_doctor' })).token;
}

const lines = (stdout: string) => stdout.split('\n');
const failed = (stdout: string, check: string) => lines(stdout).find((l) => l.startsWith(`✗ ${check}:`));

describe('portcullis doctor', () => {
  let good: NodeServer & { port: number };
  before(async () => (good = await portcullis()));
  after(() => good.close());

  it('a correctly deployed server: every check passes, exit 0', async () => {
    const result = await runCli(['doctor', good.config.resource], {});
    assert.equal(result.code, 0, result.stdout + result.stderr);
    for (const check of ['https', '401 challenge', 'clock', 'resource metadata', 'CORS on metadata', 'resource', 'issuer', 'PKCE', 'client registration', 'iss in authorization responses', 'JWKS']) {
      assert.ok(lines(result.stdout).some((l) => l.startsWith(`✓ ${check}:`)), `${check} passed\n${result.stdout}`);
    }
    assert.ok(!result.stdout.includes('✗'), result.stdout);
    assert.match(result.stdout, /No problems found/);
    // Not testable without a token: said so, not counted as passed.
    assert.match(result.stdout, /^- SSE through the proxy: /m);
  });

  it('RS-03b public tools (toolPolicy.public): initialize is served without a token, and the challenge is found on a request that is not; exit 0', async () => {
    const mixed = await portcullis(undefined, { toolPolicy: { public: { tools: ['server_info'] } } });
    try {
      const result = await runCli(['doctor', mixed.config.resource], {});
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.ok(lines(result.stdout).some((l) => l.startsWith('✓ 401 challenge:') && l.includes('resource_metadata=')), result.stdout);
    } finally {
      await mixed.close();
    }
  });

  it('RFC 9728 §3.3 a wrong PORTCULLIS_PUBLIC_URL: the resource differs from the URL clients use; exit 1 naming the setting', async () => {
    // The operator left the public URL at an origin nobody reaches (here a closed loopback port).
    const nowhere = await closedPort();
    const server = await portcullis(`http://localhost:${nowhere}`);
    try {
      const result = await runCli(['doctor', `http://127.0.0.1:${server.port}/mcp`], {});
      assert.equal(result.code, 1, result.stdout);
      assert.match(failed(result.stdout, 'resource metadata') ?? '', new RegExp(`http://localhost:${nowhere}/\\.well-known/oauth-protected-resource/mcp: ECONNREFUSED.*PORTCULLIS_PUBLIC_URL`));
      const resource = failed(result.stdout, 'resource') ?? '';
      assert.match(resource, new RegExp(`"http://localhost:${nowhere}/mcp" but clients use "http://127\\.0\\.0\\.1:${server.port}/mcp"`));
      assert.match(resource, /Set PORTCULLIS_PUBLIC_URL to the origin clients use \(http:\/\/127\.0\.0\.1:\d+\)/);
      assert.match(result.stdout, /problems to fix/);
    } finally {
      await server.close();
    }
  });

  it('a reverse proxy that drops WWW-Authenticate: exit 1 naming the proxy; the rest of the deployment is fine', async () => {
    const d = await behindProxy({ drop: ['www-authenticate'] });
    try {
      const result = await runCli(['doctor', `http://localhost:${d.proxy.port}/mcp`], {});
      assert.equal(result.code, 1, result.stdout);
      assert.match(failed(result.stdout, '401 challenge') ?? '', /without a WWW-Authenticate: Bearer header\. A reverse proxy in front is dropping it/);
      // Found through the well-known path instead, and otherwise correct: only the proxy is blamed.
      assert.equal(lines(result.stdout).filter((l) => l.startsWith('✗')).length, 1, result.stdout);
      assert.ok(lines(result.stdout).some((l) => l.startsWith('✓ resource:')), result.stdout);
    } finally {
      await d.close();
    }
  });

  it('a reverse proxy that rewrites the path (/app/mcp → /mcp): exit 1 naming the path rewrite', async () => {
    const d = await behindProxy({ stripPrefix: '/app' });
    try {
      const result = await runCli(['doctor', `http://localhost:${d.proxy.port}/app/mcp`], {});
      assert.equal(result.code, 1, result.stdout);
      assert.match(failed(result.stdout, 'resource') ?? '', /a reverse proxy is rewriting the path\. Publish Portcullis's MCP endpoint at \/mcp unchanged/);
    } finally {
      await d.close();
    }
  });

  it('a reverse proxy that drops the CORS headers of the metadata: exit 1', async () => {
    const d = await behindProxy({ drop: ['access-control-allow-origin'] });
    try {
      const result = await runCli(['doctor', `http://localhost:${d.proxy.port}/mcp`], {});
      assert.equal(result.code, 1, result.stdout);
      assert.match(failed(result.stdout, 'CORS on metadata') ?? '', /no Access-Control-Allow-Origin: browser-based clients cannot read it/);
    } finally {
      await d.close();
    }
  });

  it('RFC 8414 §3.3 an issuer that differs by a trailing slash between the resource metadata and the AS document: exit 1', async () => {
    const d = await behindProxy({ rewrite: (body) => body.replace(/"issuer":"([^"]*)"/, '"issuer":"$1/"') });
    try {
      const result = await runCli(['doctor', `http://localhost:${d.proxy.port}/mcp`], {});
      assert.equal(result.code, 1, result.stdout);
      assert.match(failed(result.stdout, 'issuer') ?? '', new RegExp(`says issuer "http://localhost:${d.proxy.port}/" but the resource metadata names "http://localhost:${d.proxy.port}"; they must match byte for byte`));
      assert.equal(lines(result.stdout).filter((l) => l.startsWith('✗')).length, 1, result.stdout);
    } finally {
      await d.close();
    }
  });

  it('OIDC Discovery §4 a proxy that does not route the RFC 8414 path: found at openid-configuration, passed with a note', async () => {
    const d = await behindProxy({ notRouted: '/.well-known/oauth-authorization-server' });
    try {
      const result = await runCli(['doctor', `http://localhost:${d.proxy.port}/mcp`], {});
      assert.equal(result.code, 0, result.stdout);
      assert.match(result.stdout, /^✓ authorization server metadata: http:\/\/localhost:\d+\/\.well-known\/openid-configuration \(not at .*oauth-authorization-server: clients older than/m);
      assert.ok(lines(result.stdout).some((l) => l.startsWith('✓ issuer:')), result.stdout);
    } finally {
      await d.close();
    }
  });

  it('MCP 2025-11-25 an authorization server advertising neither PKCE S256 nor a way to register: exit 1 naming both', async () => {
    const d = await behindProxy({
      rewrite: (body) => body.replace(/"code_challenge_methods_supported":\[[^\]]*\]/, '"code_challenge_methods_supported":["plain"]').replace(/"registration_endpoint":"[^"]*",?/, '').replace(/"client_id_metadata_document_supported":true,?/, ''),
    });
    try {
      const result = await runCli(['doctor', `http://localhost:${d.proxy.port}/mcp`], {});
      assert.equal(result.code, 1, result.stdout);
      assert.match(failed(result.stdout, 'PKCE') ?? '', /does not list S256.*MCP clients refuse to sign in/);
      assert.match(failed(result.stdout, 'client registration') ?? '', /neither registration_endpoint nor client_id_metadata_document_supported/);
    } finally {
      await d.close();
    }
  });

  it('a server clock five minutes off (its Date header): exit 1 naming NTP', async () => {
    const d = await behindProxy({ set: { date: new Date(Date.now() - 5 * 60_000).toUTCString() } });
    try {
      const result = await runCli(['doctor', `http://localhost:${d.proxy.port}/mcp`], {});
      assert.equal(result.code, 1, result.stdout);
      assert.match(failed(result.stdout, 'clock') ?? '', /-(29\d|300|301) s off this machine's.*NTP/);
    } finally {
      await d.close();
    }
  });

  it('with an access token: the event stream is checked; unbuffered direct, buffered behind a buffering proxy (exit 1)', async () => {
    const direct = await runCli(['doctor', good.config.resource], { PORTCULLIS_DOCTOR_TOKEN: await accessToken(good) });
    assert.equal(direct.code, 0, direct.stdout);
    assert.match(direct.stdout, /^✓ SSE through the proxy: event stream unbuffered$/m);

    const d = await behindProxy({ buffer: true });
    try {
      const token = await accessToken(d.server);
      const result = await runCli(['doctor', `http://localhost:${d.proxy.port}/mcp`], { PORTCULLIS_DOCTOR_TOKEN: token });
      assert.equal(result.code, 1, result.stdout);
      assert.match(failed(result.stdout, 'SSE through the proxy') ?? '', /headers did not arrive within 3 s: a proxy is buffering it.*proxy_buffering off/);
      assert.ok(!result.stdout.includes(token) && !result.stderr.includes(token), 'the token is never printed');
      const refused = await runCli(['doctor', `http://localhost:${d.proxy.port}/mcp`], { PORTCULLIS_DOCTOR_TOKEN: 'not-a-token' });
      assert.match(failed(refused.stdout, 'SSE through the proxy') ?? '', /the token was refused \(401/);
    } finally {
      await d.close();
    }
  });

  it('a URL that answers but is not the MCP endpoint: exit 1', async () => {
    const result = await runCli(['doctor', `http://localhost:${good.port}/not-mcp`], {});
    assert.equal(result.code, 1, result.stdout);
    assert.match(failed(result.stdout, '401 challenge') ?? '', /got 404, not 401/);
  });

  it('nothing listening: exit 1 with the reason; not a URL: exit 1 with the usage', async () => {
    const down = await runCli(['doctor', `http://127.0.0.1:${await closedPort()}/mcp`], {});
    assert.equal(down.code, 1);
    assert.match(failed(down.stdout, '401 challenge') ?? '', /did not answer \(ECONNREFUSED\)/);
    const bad = await runCli(['doctor', 'mcp.example.com'], {});
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /"mcp\.example\.com" is not a URL/);
  });
});
