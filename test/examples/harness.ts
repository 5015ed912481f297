/**
 * Runs an example as a user would (`node --conditions=portcullis-source --experimental-strip-types
 * examples/<x>/server.ts`; test/package/ runs them on the installed package) and checks what every
 * example must do, through any `fetch` (a real socket, or the Next.js route modules called in-process).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { parseChallenge } from '../resource/fixtures.ts';
import { startPortcullisIssuer, startStytchIssuer, type ExampleIssuer } from './issuers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/** The settings of an example that must not leak in from the test's own environment. */
const EXAMPLE_SETTINGS = ['PORT', 'HOST', 'PUBLIC_URL', 'STYTCH_PROJECT_ID', 'STYTCH_DOMAIN', 'STYTCH_SECRET', 'AUTHORIZATION_SERVER', 'NODE_EXTRA_CA_CERTS'];

export interface RunningExample {
  /** The MCP endpoint the example printed. */
  mcpUrl: string;
  /** Everything the child wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** A port nothing listens on right now (the example needs it before it starts: it is part of the resource URL). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Starts `examples/<name>/server.ts` of this repository, on its sources, with `env`, and waits (bounded) for it to print its MCP endpoint. */
export function startExample(name: string, env: Record<string, string>): Promise<RunningExample> {
  return startProgram(
    `examples/${name}`,
    ['--conditions=portcullis-source', '--experimental-strip-types', '--disable-warning=ExperimentalWarning', `examples/${name}/server.ts`],
    ROOT,
    env,
  );
}

/** Starts `node <args>` in `cwd` with `env` (an example, wherever it is installed) and waits (bounded) for its MCP endpoint. */
export async function startProgram(label: string, args: readonly string[], cwd: string, env: Record<string, string>): Promise<RunningExample> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const setting of EXAMPLE_SETTINGS) delete childEnv[setting];
  Object.assign(childEnv, { PORT: String(await freePort()), ...env });
  const child: ChildProcess = spawn(process.execPath, args, { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const mcpUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} printed no MCP endpoint within ${STARTUP_TIMEOUT_MS} ms:\n${output}`)), STARTUP_TIMEOUT_MS);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /MCP endpoint (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (code ${code}) before listening:\n${output}`));
    });
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });
  return {
    mcpUrl,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A legacy (2025-era) JSON-RPC `tools/call` POST, sent without the SDK so status and headers are ours to read. */
export function rawToolCall(fetchFn: typeof fetch, mcpUrl: string, tool: string, args: Record<string, unknown>, token?: string): Promise<Response> {
  return fetchFn(mcpUrl, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: args } }),
    signal: AbortSignal.timeout(10_000),
  });
}

/** The official MCP SDK client with a static bearer token: `modern` negotiates 2026-07-28, `legacy` speaks 2025-11-25. */
export async function connectClient(fetchFn: typeof fetch, mcpUrl: string, token: string, era: 'modern' | 'legacy'): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } }, fetch: fetchFn });
  const client = new Client({ name: 'portcullis-examples-test', version: '1.0.0' }, era === 'modern' ? { versionNegotiation: { mode: 'auto' } } : {});
  await client.connect(transport);
  return client;
}

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  const first = (result.content as { type: string; text?: string }[] | undefined)?.[0];
  assert.equal(first?.type, 'text', `a text result: ${JSON.stringify(result)}`);
  return first.text ?? '';
}

/** An example being tested: where its MCP endpoint is, and the `fetch` that reaches it. */
export interface ExampleUnderTest {
  mcpUrl: string;
  fetch: typeof fetch;
  stop?: () => Promise<void>;
}

/**
 * What every example must do, as one suite (MCP authorization RS-01/03/11/12/17/24/26, RFC 9728, RFC 6750
 * §3): `start` runs the example pointed at `issuer`.
 */
export function describeExample<I extends ExampleIssuer>(
  title: string,
  startIssuer: () => Promise<I>,
  start: (issuer: I) => Promise<ExampleUnderTest>,
  /** `checksOrigin`: the example checks `Origin` itself (the Next.js one leaves that to its host). */
  options: { checksOrigin: boolean },
): void {
  describe(title, () => {
    let issuer: I | undefined;
    let example: ExampleUnderTest | undefined;
    before(async () => {
      issuer = await startIssuer();
      example = await start(issuer);
    });
    after(async () => {
      await example?.stop?.();
      await issuer?.close();
    });
    const ready = (): { issuer: ExampleIssuer; mcpUrl: string; fetchFn: typeof fetch; metadataUrl: string } => {
      assert.ok(issuer && example, 'the example started');
      return { issuer, mcpUrl: example.mcpUrl, fetchFn: example.fetch, metadataUrl: `${new URL(example.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp` };
    };

    it('RS-01 RS-26 serves the Protected Resource Metadata: its exact MCP URL and the configured authorization server', async () => {
      const { issuer, mcpUrl, fetchFn, metadataUrl } = ready();
      // RFC 9728 §3: at the path-inserted URL clients try first, and (as in Stytch's guide) at the root.
      for (const url of [metadataUrl, `${new URL(mcpUrl).origin}/.well-known/oauth-protected-resource`]) {
        const prm = await fetchFn(url, { signal: AbortSignal.timeout(10_000) });
        assert.equal(prm.status, 200, `PRM at ${url}`);
        const document = (await prm.json()) as { resource: string; authorization_servers: string[]; scopes_supported: string[] };
        assert.equal(document.resource, mcpUrl);
        assert.deepEqual(document.authorization_servers, [issuer.issuer]);
        assert.deepEqual(document.scopes_supported, ['openid', 'tasks:write']);
      }
    });

    it('RS-03 RS-09 no token: 401 naming the PRM, without an error code; a bad token: 401 invalid_token', async () => {
      const { mcpUrl, fetchFn, metadataUrl } = ready();
      const none = await rawToolCall(fetchFn, mcpUrl, 'whoami', {});
      assert.equal(none.status, 401);
      const challenge = parseChallenge(none.headers.get('WWW-Authenticate'));
      assert.equal(challenge.scheme, 'Bearer');
      assert.equal(challenge.params['resource_metadata'], metadataUrl);
      assert.equal(challenge.params['error'], undefined, 'RFC 6750 §3.1: no error code without credentials');
      await none.body?.cancel();

      const bad = await rawToolCall(fetchFn, mcpUrl, 'whoami', {}, 'not-a-token');
      assert.equal(bad.status, 401);
      assert.equal(parseChallenge(bad.headers.get('WWW-Authenticate')).params['error'], 'invalid_token');
      await bad.body?.cancel();
    });

    if (options.checksOrigin) it('RS-24 a request from a foreign Origin is refused 403, token or not', async () => {
      const { issuer, mcpUrl, fetchFn } = ready();
      const token = (await issuer.mint(mcpUrl, ['openid', 'tasks:write'])).token;
      const response = await fetchFn(mcpUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Origin: 'https://attacker.example', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(response.status, 403);
      await response.body?.cancel();
    });

    it('RS-17 a valid token: the official SDK client lists the tools and whoami sees the verified caller (never the token)', async () => {
      const { issuer, mcpUrl, fetchFn } = ready();
      const reader = await issuer.mint(mcpUrl, ['openid', 'tasks:read']);
      const client = await connectClient(fetchFn, mcpUrl, reader.token, 'modern');
      try {
        assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['add_task', 'whoami']);
        const text = textOf(await client.callTool({ name: 'whoami', arguments: {} }));
        assert.ok(!text.includes(reader.token), 'whoami never echoes the access token');
        const me = JSON.parse(text) as { subject: string; scopes: string[] };
        assert.equal(me.subject, reader.subject);
        assert.deepEqual(me.scopes, ['openid', 'tasks:read']);
      } finally {
        await client.close();
      }
    });

    it('RS-11 RS-12 add_task without tasks:write: 403 insufficient_scope naming the scope and the PRM; with it, the tool runs', async () => {
      const { issuer, mcpUrl, fetchFn, metadataUrl } = ready();
      const reader = await issuer.mint(mcpUrl, ['openid', 'tasks:read']);
      const scant = await rawToolCall(fetchFn, mcpUrl, 'add_task', { title: 'Buy milk' }, reader.token);
      assert.equal(scant.status, 403);
      const challenge = parseChallenge(scant.headers.get('WWW-Authenticate'));
      assert.equal(challenge.params['error'], 'insufficient_scope');
      assert.equal(challenge.params['scope'], 'tasks:write', 'RS-13b: the scope the tool needs');
      assert.equal(challenge.params['resource_metadata'], metadataUrl);
      await scant.body?.cancel();

      const writer = await issuer.mint(mcpUrl, ['openid', 'tasks:write']);
      const client = await connectClient(fetchFn, mcpUrl, writer.token, 'legacy');
      try {
        assert.match(textOf(await client.callTool({ name: 'add_task', arguments: { title: 'Buy milk' } })), /^Added "Buy milk"; you have 1 task\(s\)\.$/);
      } finally {
        await client.close();
      }
    });
  });
}

/** The issuers every example is tested against: Stytch (the seed's setup) and a generic OAuth server (Portcullis). */
export const ISSUERS = [
  ['Stytch', startStytchIssuer],
  ['any OAuth server (Portcullis)', startPortcullisIssuer],
] as const;
