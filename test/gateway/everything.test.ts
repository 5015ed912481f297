import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { CLI, cliEnv, tempDatabase } from '../cli/helpers.ts';
import { InMemoryOAuthProvider } from '../helpers/e2e.ts';
import { authorizeWithForms } from '../helpers/oauth-flow.ts';
import { eventually, isRunning, quoteWord } from './helpers.ts';

/**
 * Issue 4, done when: `portcullis start --upstream-command "npx -y @modelcontextprotocol/server-everything"`
 * turns a local stdio MCP server into a remote, OAuth-protected one that an MCP client logs in to.
 * The network here reaches only the npm registry, so the same server is run from its installed bin
 * (a devDependency) rather than through `npx -y`. Everything else is as a user would do it: the real
 * CLI in its own process, the first-start administrator password from the banner, and the official
 * SDK client with an OAuthClientProvider going through discovery, registration, login, consent and
 * the token exchange.
 */

const EVERYTHING = fileURLToPath(new URL('../../node_modules/.bin/mcp-server-everything', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('issue 4 acceptance: portcullis start --upstream-command <server-everything>', () => {
  const db = tempDatabase();
  let server: ChildProcessWithoutNullStreams;
  let stdout = '';
  let stderr = '';
  let exited: Promise<number | null>;
  let origin: string;
  let adminPassword: string;
  let client: Client | undefined;
  const provider = new InMemoryOAuthProvider();

  before(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', CLI, 'start', '--upstream-command', quoteWord(EVERYTHING)], {
      env: cliEnv({ PORT: String(port), PORTCULLIS_PUBLIC_URL: origin, PORTCULLIS_DATABASE: db.database, LOG_LEVEL: 'debug' }),
    });
    server.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    server.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    exited = new Promise((resolve) => server.on('exit', (code) => resolve(code)));
    await eventually(() => /Listening on/.test(stdout) || server.exitCode !== null, 'the server printed its banner', 30_000);
    assert.equal(server.exitCode, null, `the server did not start:\n${stdout}\n${stderr}`);
    adminPassword = /password\s+(\S+)/.exec(stdout)?.[1] ?? '';
  });

  after(async () => {
    await client?.close().catch(() => {});
    server.kill('SIGKILL');
    db.cleanup();
  });

  it('the banner says what the gateway fronts', () => {
    assert.match(stdout, new RegExp(`MCP server URL\\s+${origin}/mcp\\n`));
    assert.match(stdout, /Gateway to\s+.*mcp-server-everything.*\(stdio: one process per MCP session\)/);
    assert.ok(adminPassword, 'first start: the administrator password is shown');
  });

  it('the official SDK client discovers, registers, logs in through the pages and gets a token for the `mcp` scope', async () => {
    const mcpUrl = new URL(`${origin}/mcp`);
    const first = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
    await assert.rejects(new Client({ name: 'everything-e2e', version: '1' }).connect(first), (e: unknown) => e instanceof UnauthorizedError);
    const authorizationUrl = provider.authorizationUrls.at(-1)!;
    const scopes = authorizationUrl.searchParams.get('scope')?.split(' ') ?? [];
    assert.deepEqual(scopes.filter((s) => s !== 'offline_access'), ['mcp'], 'the gateway asks for its one scope (and the SDK adds offline_access for a refresh token)');
    assert.equal(authorizationUrl.searchParams.get('resource'), `${origin}/mcp`);

    const callback = await authorizeWithForms({ fetch: (u, i) => fetch(u, i), authorizationUrl, username: 'admin', password: adminPassword });
    assert.equal(callback.searchParams.get('error'), null, callback.searchParams.get('error_description') ?? '');
    await first.finishAuth(callback.searchParams);
    assert.ok(provider.tokenSet?.access_token);
  });

  it("lists server-everything's tools and calls `echo` through the gateway", async () => {
    client = new Client({ name: 'everything-e2e', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider }));
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    assert.ok(names.includes('echo') && names.includes('get-sum'), names.join(', '));
    assert.ok(!names.includes('whoami'), 'the built-in tools are replaced');
    const result = await client.callTool({ name: 'echo', arguments: { message: 'hello from behind the gateway' } });
    assert.equal((result.content as Array<{ text: string }>)[0]?.text, 'Echo: hello from behind the gateway');
    const sum = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    assert.match((sum.content as Array<{ text: string }>)[0]?.text ?? '', /5/);
  });

  it('SIGTERM: the gateway stops its stdio server and exits 0', async () => {
    const pids = [...stdout.matchAll(/"upstream_pid":(\d+)/g)].map((m) => Number(m[1]));
    assert.ok(pids.length > 0, 'the stdio server was started (its stderr is logged at debug level with its pid)');
    await client?.close().catch(() => {});
    client = undefined;
    server.kill('SIGTERM');
    assert.equal(await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000).unref())]), 0, stderr);
    for (const pid of new Set(pids)) assert.equal(isRunning(pid), false, `stdio server ${pid} outlived the gateway`);
  });
});
