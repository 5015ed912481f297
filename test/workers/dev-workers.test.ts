import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from './harness.ts';
import { mcpClient, signInWithSdk } from './sign-in.ts';

/**
 * `npm run dev:workers` as a user runs it (the script the npm script execs): the Worker under
 * workerd with a local D1, the banner with the MCP URL and, on the first start only, the
 * administrator's password, which signs in.
 */
const ROOT = new URL('../../', import.meta.url).pathname;

interface Started {
  child: ChildProcess;
  output: () => string;
}

/** Starts the dev server and waits for its banner. */
async function startDev(port: number, data: string): Promise<Started> {
  const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'scripts/dev-workers.ts'], {
    cwd: ROOT,
    env: { ...withoutDatabaseUrl(process.env), PORT: String(port), PORTCULLIS_WORKERS_DATA: data, PORTCULLIS_PUBLIC_URL: `http://127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 90 s:\n${output}`)), 90_000);
    const check = () => {
      if (output.includes('Stop with Ctrl+C')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
  return { child, output: () => output };
}

/** Ctrl+C: workerd is stopped and the script exits as an interrupted process does (128 + SIGINT). */
async function stop(started: Started): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => started.child.once('exit', (code) => resolve(code)));
  started.child.kill('SIGINT');
  return exited;
}

describe('npm run dev:workers', () => {
  let data: string;
  after(async () => {
    if (data) await rm(data, { recursive: true, force: true });
  });

  it('first start: the banner names the MCP URL and a one-time password that signs in; the next start prints none', async () => {
    data = await mkdtemp(join(tmpdir(), 'portcullis-dev-workers-'));
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const first = await startDev(port, data);
    try {
      const banner = first.output();
      assert.match(banner, new RegExp(`MCP server URL   ${origin}/mcp`));
      assert.match(banner, /Data             D1 \(local, under workerd\)/);
      const password = /password   (\S+)/.exec(banner)?.[1];
      assert.ok(password, banner);
      const provider = await signInWithSdk({ origin }, { username: 'admin', password });
      const { client, transport } = mcpClient({ origin }, provider, '2026-07-28');
      await client.connect(transport);
      assert.equal(((await client.callTool({ name: 'whoami', arguments: {} })).structuredContent as { username: string }).username, 'admin');
      await client.close();
      assert.equal((await stat(join(data, 'key-encryption-key'))).mode & 0o777, 0o600, 'the local key-encryption key is private');
    } finally {
      assert.equal(await stop(first), 130);
    }

    const second = await startDev(port, data);
    try {
      assert.doesNotMatch(second.output(), /password/, 'the password was shown only once');
      assert.match(second.output(), new RegExp(`MCP server URL   ${origin}/mcp`));
    } finally {
      assert.equal(await stop(second), 130);
    }
  });
});

/** The suite's own PostgreSQL URL would reach the Worker, which refuses it (a Worker's database is D1). */
function withoutDatabaseUrl(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DATABASE_URL: _omitted, ...rest } = env;
  return rest;
}
