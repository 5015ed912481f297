import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderStartupBanner } from '../../src/bootstrap/banner.ts';
import { loadConfigInput } from '../../src/config/env.ts';
import { ConfigError, resolveConfig } from '../../src/config/resolve.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { runCli, tempDatabase } from '../cli/helpers.ts';

const fromEnv = (env: Record<string, string>) => resolveConfig(loadConfigInput(env, undefined));
const refused = (input: ConfigInput, message: RegExp) => assert.throws(() => resolveConfig(input), (e: unknown) => e instanceof ConfigError && message.test(e.message));

describe('the upstream setting (gateway mode)', () => {
  it('is read from PORTCULLIS_UPSTREAM_* variables', () => {
    const { upstream } = fromEnv({
      PORTCULLIS_UPSTREAM_URL: 'https://tools.internal.example/mcp',
      PORTCULLIS_UPSTREAM_TOKEN: 'tok-123',
      PORTCULLIS_UPSTREAM_IDENTITY_HEADERS: 'off',
      PORTCULLIS_UPSTREAM_TIMEOUT: '12',
      PORTCULLIS_UPSTREAM_STREAM_IDLE_TIMEOUT: '120',
      PORTCULLIS_UPSTREAM_PASS_ENV: 'API_KEY, REGION',
    });
    assert.equal(upstream?.url, 'https://tools.internal.example/mcp');
    assert.equal(upstream?.bearerToken, 'tok-123');
    assert.equal(upstream?.identityHeaders, false);
    assert.equal(upstream?.timeout, 12);
    assert.equal(upstream?.streamIdleTimeout, 120);
    assert.deepEqual(upstream?.passEnv, ['API_KEY', 'REGION']);
    assert.deepEqual(upstream?.requiredScopes, ['mcp']);

    const withHeader = fromEnv({ PORTCULLIS_UPSTREAM_URL: 'https://tools.example/mcp', PORTCULLIS_UPSTREAM_AUTHORIZATION: 'Basic dXNlcjpwYXNz' });
    assert.deepEqual(withHeader.upstream?.secretHeaders, { Authorization: 'Basic dXNlcjpwYXNz' });
    assert.deepEqual(fromEnv({ PORTCULLIS_UPSTREAM_COMMAND: 'npx -y @modelcontextprotocol/server-everything' }).upstream?.command, 'npx -y @modelcontextprotocol/server-everything');
  });

  it("accepts seed 2's REMOTE_MCP_SERVER_URL (an origin, to which the worker appended /mcp) and REMOTE_MCP_AUTH_TOKEN; the PORTCULLIS_ names win", () => {
    assert.equal(fromEnv({ REMOTE_MCP_SERVER_URL: 'http://localhost:8000' }).upstream?.url, 'http://localhost:8000/mcp');
    assert.equal(fromEnv({ REMOTE_MCP_SERVER_URL: 'http://localhost:8000/mcp/' }).upstream?.url, 'http://localhost:8000/mcp');
    assert.equal(fromEnv({ REMOTE_MCP_SERVER_URL: 'http://localhost:8000', REMOTE_MCP_AUTH_TOKEN: 'seed-token' }).upstream?.bearerToken, 'seed-token');
    const both = fromEnv({ REMOTE_MCP_SERVER_URL: 'http://localhost:8000', PORTCULLIS_UPSTREAM_URL: 'http://127.0.0.1:9000/rpc', REMOTE_MCP_AUTH_TOKEN: 'a', PORTCULLIS_UPSTREAM_TOKEN: 'b' });
    assert.equal(both.upstream?.url, 'http://127.0.0.1:9000/rpc');
    assert.equal(both.upstream?.bearerToken, 'b');
  });

  it('BP-09 without declared scopes a gateway offers the one scope `mcp`; declared scopes are left alone', () => {
    const gateway = resolveConfig({ serverName: 'Acme tools', upstream: { url: 'http://127.0.0.1:9000/mcp' } });
    assert.deepEqual(gateway.scopes, [{ name: 'mcp', description: 'Use the tools of Acme tools' }]);
    assert.deepEqual(gateway.defaultScopes, ['mcp']);
    const declared = resolveConfig({
      scopes: [{ name: 'read', description: 'Read' }],
      defaultScopes: ['read'],
      upstream: { url: 'http://127.0.0.1:9000/mcp', requiredScopes: ['read'] },
    });
    assert.deepEqual(declared.scopes.map((s) => s.name), ['read']);
    assert.deepEqual(resolveConfig({}).scopes.map((s) => s.name), ['tasks:read', 'tasks:write'], 'without upstream nothing changes');
  });

  it('refuses unusable settings with a message naming the setting', () => {
    refused({ upstream: {} }, /upstream: set upstream\.url .* or upstream\.command/);
    refused({ upstream: { url: 'http://127.0.0.1:1/mcp', command: 'server' } }, /not both/);
    refused({ upstream: { url: 'ftp://host/mcp' } }, /upstream\.url: it must be an http or https URL/);
    refused({ upstream: { url: 'https://user:pw@host/mcp' } }, /upstream\.url: put credentials in upstream\.bearerToken/);
    refused({ upstream: { command: 'server', bearerToken: 'x' } }, /upstream\.bearerToken: credentials are sent to an HTTP upstream only/);
    refused({ upstream: { command: 'server | tee log' } }, /upstream\.command: the command is not run by a shell/);
    refused({ upstream: { url: 'http://127.0.0.1:1/mcp', requiredScopes: ['admin'] } }, /upstream\.requiredScopes: admin is not one of the declared scopes/);
    refused({ upstream: { url: 'http://127.0.0.1:1/mcp', toolScopes: { drop_table: ['admin'] } } }, /upstream\.toolScopes: admin \(for drop_table\)/);
    refused({ upstream: { url: 'http://127.0.0.1:1/mcp', secretHeaders: { 'Mcp-Session-Id': 'x' } } }, /upstream\.secretHeaders: Mcp-Session-Id is set by the gateway/);
    refused({ upstream: { url: 'http://127.0.0.1:1/mcp', bearerToken: 'a', secretHeaders: { authorization: 'Basic b' } } }, /not both/);
    refused({ upstream: { url: 'http://127.0.0.1:1/mcp', identityHeaders: { subject: 'X-User', client: 'X-User', scopes: 'X-Scopes' } } }, /must differ/);
    refused({ upstream: { url: 'http://127.0.0.1:1/mcp', identityHeaders: { subject: 'Authorization', client: 'X-Client', scopes: 'X-Scopes' } } }, /authorization cannot carry/);
    refused({ upstream: { url: 'http://127.0.0.1:1/mcp', identityHeaders: { subject: 'X User', client: 'X-Client', scopes: 'X-Scopes' } } }, /upstream\.identityHeaders\.subject/);
  });

  it('plain http to a non-loopback upstream needs PORTCULLIS_UPSTREAM_DANGEROUSLY_ALLOW_INSECURE_HTTP', () => {
    refused({ upstream: { url: 'http://tools.internal:8000/mcp' } }, /PORTCULLIS_UPSTREAM_DANGEROUSLY_ALLOW_INSECURE_HTTP/);
    assert.ok(fromEnv({ PORTCULLIS_UPSTREAM_URL: 'http://tools.internal:8000/mcp', PORTCULLIS_UPSTREAM_DANGEROUSLY_ALLOW_INSECURE_HTTP: 'true' }).upstream);
    assert.ok(resolveConfig({ upstream: { url: 'http://localhost:8000/mcp' } }).upstream, 'loopback is fine');
  });

  it('the start-up banner says what the gateway fronts, and warns when a remote upstream gets no credential', () => {
    const banner = (upstream: ConfigInput['upstream']) =>
      renderStartupBanner({ config: resolveConfig({ database: ':memory:', upstream }), listening: '127.0.0.1:3000', firstAdmin: null, cli: 'portcullis' });
    assert.match(banner({ url: 'https://tools.example/mcp', bearerToken: 't' }), /Gateway to\s+https:\/\/tools\.example\/mcp\n/);
    assert.doesNotMatch(banner({ url: 'https://tools.example/mcp', bearerToken: 't' }), /WARNING/);
    assert.match(banner({ url: 'https://tools.example/mcp' }), /WARNING: the gateway sends no credential to https:\/\/tools\.example\/mcp: anyone who can reach it there bypasses OAuth/);
    assert.match(banner({ command: 'npx -y @modelcontextprotocol/server-everything' }), /Gateway to\s+npx -y @modelcontextprotocol\/server-everything {2}\(stdio: one process per MCP session\)/);
    assert.doesNotMatch(renderStartupBanner({ config: resolveConfig({ database: ':memory:' }), listening: '127.0.0.1:3000', firstAdmin: null, cli: 'portcullis' }), /Gateway to/);
  });
});

describe('portcullis start --upstream / --upstream-command, and config check', () => {
  const db = tempDatabase();

  it('a bad --upstream-command is reported in one line naming the setting, exit 1', async () => {
    const r = await runCli(['start', '--upstream-command', 'server > out.log'], { PORT: '0', PORTCULLIS_DATABASE: db.database });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Invalid setting upstream\.command: the command is not run by a shell, so an unquoted > would be passed literally/);
    const insecure = await runCli(['start', '--upstream', 'http://tools.internal:8000/mcp'], { PORT: '0', PORTCULLIS_DATABASE: db.database });
    assert.equal(insecure.code, 1);
    assert.match(insecure.stderr, /Invalid setting upstream\.url: http:\/\/tools\.internal:8000 is plain http/);
    const both = await runCli(['start', '--upstream', 'http://127.0.0.1:1/mcp', '--upstream-command', 'server'], { PORT: '0', PORTCULLIS_DATABASE: db.database });
    assert.match(both.stderr, /not both/);
    db.cleanup();
  });

  it('config check never prints the upstream credentials', async () => {
    for (const [env, shown] of [
      [{ PORTCULLIS_UPSTREAM_TOKEN: 'very-secret-upstream-token' }, /"bearerToken": "\(set\)"/],
      [{ PORTCULLIS_UPSTREAM_AUTHORIZATION: 'Basic c2VjcmV0LXNlY3JldA==' }, /"secretHeaders": "\(set\)"/],
    ] as const) {
      const r = await runCli(['config', 'check'], { PORTCULLIS_UPSTREAM_URL: 'https://tools.example/mcp', ...env });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes('very-secret-upstream-token') && !r.stdout.includes('c2VjcmV0LXNlY3JldA=='), r.stdout);
      assert.match(r.stdout, shown);
    }
  });
});
