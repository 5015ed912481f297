import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI, tempDatabase } from '../cli/helpers.ts';

/**
 * HARD-10: whoever starts the server (npm, a service manager, a container runtime) stops it by
 * signalling the process it started. The server must then finish in-flight requests, exit 0, and
 * leave no process behind. Real processes, real signals, real sockets.
 */

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const READY = /Listening on\s+127\.0\.0\.1:(\d+)\n/;
const NODE_ARGS = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', CLI, 'start'];
const posix = process.platform !== 'win32';
const canUnsharePid = posix && spawnSync('unshare', ['--fork', '--pid', '--mount-proc', 'true']).status === 0;

interface Launched {
  child: ChildProcess;
  port: number;
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function environment(database: string): NodeJS.ProcessEnv {
  return {
    // The Node running this test first, so `npm` runs the same one.
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    HOME: process.env.HOME,
    PORT: '0',
    PORTCULLIS_DATABASE: database,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
  };
}

/** Spawns `command args` in the repository and waits (bounded) for the start-up banner. */
async function launch(command: string, args: readonly string[], database: string): Promise<Launched> {
  const child = spawn(command, args, { cwd: REPO, env: environment(database), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 30 s\n${stdout}\n${stderr}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = READY.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before the banner\n${stdout}\n${stderr}`));
    });
  });
  return { child, port, stdout: () => stdout, exited };
}

/** Every process below `pid` (ps works on Linux and macOS). */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const walk = (parent: number): void => {
    for (const [child, ppid] of rows) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A request the server has started to receive but cannot answer yet: headers and half the body
 * are sent now, the rest by `finish()`, which resolves with the status line of the answer.
 */
function inFlightRequest(port: number): Promise<{ finish(): Promise<string> }> {
  const body = 'grant_type=authorization_code&code=nope';
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString()));
  const answered = new Promise<string>((resolve, reject) => {
    socket.once('end', () => resolve(received.split('\r\n')[0] ?? ''));
    socket.once('close', () => resolve(received.split('\r\n')[0] ?? ''));
    socket.once('error', reject);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(`POST /token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`);
      // Give the server time to take the request in before anyone signals it.
      setTimeout(
        () =>
          resolve({
            finish: () => {
              socket.write(body.slice(10));
              return answered;
            },
          }),
        300,
      );
    });
  });
}

/** Signals `target`, checks the in-flight request still gets its answer, then that nothing is left. */
async function stopsGracefully(server: Launched, target: number, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const tree = [server.child.pid!, ...descendants(server.child.pid!)];
  assert.ok(tree.length >= 1);
  const request = await inFlightRequest(server.port);
  process.kill(target, signal);
  await waitUntil(async () => !(await portAnswers(server.port)), 'the port stops accepting connections');
  assert.match(await request.finish(), /^HTTP\/1\.1 4\d\d /, 'the request in flight at the signal is answered');
  const exit = await Promise.race([server.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit\n${server.stdout()}`)), 15_000))]);
  await waitUntil(() => tree.every((pid) => !alive(pid)), `no process of ${tree.join(', ')} remains`);
  assert.match(server.stdout(), /"msg":"server stopped"/, 'the server shut down through its graceful path');
  return exit;
}

describe('HARD-10 signals stop the server gracefully whatever started it', { skip: !posix && 'POSIX signals' }, () => {
  const db = tempDatabase();
  // Every process each test started, so a failing test leaves no server behind (nor a pipe that keeps the run open).
  const started: number[] = [];
  after(() => {
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
    db.cleanup();
  });
  const run = async (command: string, args: readonly string[]): Promise<Launched> => {
    const server = await launch(command, args, db.database);
    started.push(server.child.pid!, ...descendants(server.child.pid!));
    return server;
  };

  it('HARD-10 SIGTERM to `npm start` (a service manager stopping it) finishes in-flight requests, npm exits 0, no orphan', async () => {
    const server = await run('npm', ['start']);
    const exit = await stopsGracefully(server, server.child.pid!, 'SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  it('HARD-10 SIGINT to `npm start` stops it the same way, exit 0', async () => {
    const server = await run('npm', ['start']);
    assert.deepEqual(await stopsGracefully(server, server.child.pid!, 'SIGINT'), { code: 0, signal: null });
  });

  it('HARD-10 Ctrl+C in a terminal (SIGINT to npm and to the server at once, npm forwarding its copy) is one graceful stop, exit 0', async () => {
    const server = await run('npm', ['start']);
    const node = descendants(server.child.pid!).at(-1)!;
    const request = await inFlightRequest(server.port);
    process.kill(server.child.pid!, 'SIGINT');
    process.kill(node, 'SIGINT');
    await waitUntil(async () => !(await portAnswers(server.port)), 'the port stops accepting connections');
    assert.match(await request.finish(), /^HTTP\/1\.1 4\d\d /);
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });

  it('HARD-10 SIGTERM to `npm run portcullis -- start` finishes in-flight requests, exit 0, no orphan', async () => {
    const server = await run('npm', ['run', 'portcullis', '--', 'start']);
    assert.deepEqual(await stopsGracefully(server, server.child.pid!, 'SIGTERM'), { code: 0, signal: null });
  });

  it('HARD-10 SIGINT to the node process itself stops it gracefully, exit 0', async () => {
    const server = await run(process.execPath, NODE_ARGS);
    assert.deepEqual(await stopsGracefully(server, server.child.pid!, 'SIGINT'), { code: 0, signal: null });
  });

  it('HARD-10 npm killed outright (SIGKILL, nothing forwarded): the server notices and stops itself', async () => {
    const server = await run('npm', ['start']);
    const node = descendants(server.child.pid!);
    assert.ok(node.length > 0);
    process.kill(server.child.pid!, 'SIGKILL');
    await waitUntil(() => node.every((pid) => !alive(pid)), 'the orphaned server exits');
    assert.equal(await portAnswers(server.port), false);
  });

  it('HARD-10 Node as PID 1 of its own PID namespace (a container without an init) stops gracefully on SIGTERM, exit 0', { skip: !canUnsharePid && 'needs unshare --pid' }, async () => {
    const server = await run('unshare', ['--fork', '--pid', '--mount-proc', process.execPath, ...NODE_ARGS]);
    // unshare's child is the server, PID 1 inside the namespace: a signal with no handler would be ignored.
    const [node] = descendants(server.child.pid!);
    assert.ok(node);
    const request = await inFlightRequest(server.port);
    process.kill(node, 'SIGTERM');
    await waitUntil(async () => !(await portAnswers(server.port)), 'the port stops accepting connections');
    assert.match(await request.finish(), /^HTTP\/1\.1 4\d\d /);
    assert.deepEqual(await server.exited, { code: 0, signal: null });
    assert.match(server.stdout(), /"msg":"server stopped"/);
  });
});
