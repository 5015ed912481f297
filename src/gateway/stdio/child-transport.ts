import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ReadBuffer, serializeMessage, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/server';
import type { Logger } from '../../log/logger.ts';
import type { CommandLine } from './command.ts';

export interface ChildProcessTransportOptions {
  command: CommandLine;
  env: Record<string, string>;
  /** Values to mask if the child prints them to stderr (see `secretValuesOf`). */
  secrets?: readonly string[];
  logger: Logger;
  /** After SIGTERM, how long the child has to exit before SIGKILL. */
  killGraceMs?: number;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** Longest stderr line kept in a log record. */
const MAX_LOGGED_LINE = 2000;
const DEFAULT_KILL_GRACE_MS = 2000;
/** A stdio server runs in its own process group (POSIX), so wrappers such as `npx` die with it. */
const OWN_PROCESS_GROUP = process.platform !== 'win32';

/**
 * The client side of the MCP stdio transport (newline-delimited JSON-RPC on the child's stdin and
 * stdout, framed by the SDK's own `ReadBuffer`/`serializeMessage`), for one child process.
 *
 * Written here rather than taken from `@modelcontextprotocol/client/stdio` because the gateway needs
 * three things that transport does not do: kill the child's whole process group (`npx -y …` runs
 * the server as a grandchild, which a plain kill leaves behind), send stderr to the structured log
 * with secrets masked instead of inheriting the terminal, and start the child without a shell and
 * with an environment chosen by the gateway. It also keeps the client SDK a test-only dependency.
 */
export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #options: ChildProcessTransportOptions;
  readonly #readBuffer = new ReadBuffer();
  #child: Child | undefined;
  #closing: Promise<void> | undefined;
  #exit: Promise<ChildExit> | undefined;

  constructor(options: ChildProcessTransportOptions) {
    this.#options = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Resolves when the child has exited (after `start`). */
  get exited(): Promise<ChildExit> {
    return this.#exit ?? Promise.resolve({ code: null, signal: null });
  }

  /** Spawns the child; rejects when it cannot be started (no such program, not executable). */
  async start(): Promise<void> {
    if (this.#child) throw new Error('ChildProcessTransport already started');
    const { command, env, logger } = this.#options;
    const child = spawn(command.program, command.args, {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
      detached: OWN_PROCESS_GROUP,
      windowsHide: true,
    });
    this.#child = child;
    this.#exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', () => resolve());
        child.once('error', reject);
      });
    } catch (error) {
      // Never started (no such program, not executable): there is nothing to stop later.
      this.#child = undefined;
      this.#exit = undefined;
      throw error;
    }
    liveChildren.add(child);
    const log = logger.child({ upstream_pid: child.pid });

    child.once('error', (error) => this.onerror?.(error));
    child.once('close', () => {
      liveChildren.delete(child);
      this.#readBuffer.clear();
      this.onclose?.();
    });
    child.stdin.on('error', (error) => log.debug('upstream stdin closed', { error: error.message }));
    child.stdout.on('data', (chunk: Buffer) => this.#receive(chunk));
    createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => log.debug('upstream stderr', { line: this.#mask(line) }));
  }

  #receive(chunk: Buffer): void {
    try {
      this.#readBuffer.append(chunk);
      for (let message = this.#readBuffer.readMessage(); message !== null; message = this.#readBuffer.readMessage()) this.onmessage?.(message);
    } catch (error) {
      // A line that is JSON but not JSON-RPC, or an endless line: the stream can no longer be trusted.
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
      void this.close();
    }
  }

  #mask(line: string): string {
    let out = line.length > MAX_LOGGED_LINE ? `${line.slice(0, MAX_LOGGED_LINE)}…` : line;
    for (const secret of this.#options.secrets ?? []) out = out.split(secret).join('[redacted]');
    return out
      .replace(/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [redacted]')
      .replace(/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[redacted jwt]');
  }

  /** Writes one message, waiting for the pipe to drain when the child reads slowly (back-pressure). */
  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.destroyed || this.#closing) throw new Error('the upstream MCP server is not running');
    if (!stdin.write(serializeMessage(message))) await new Promise<void>((resolve) => stdin.once('drain', resolve));
  }

  /** Ends stdin, sends SIGTERM to the child's process group, and SIGKILL if it is still there after the grace period. */
  close(): Promise<void> {
    return (this.#closing ??= this.#stop());
  }

  async #stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    if (child.exitCode !== null || child.signalCode !== null) {
      // The leader is gone ('exit'), but what it started (`npx` → the server) may live on in its
      // group: that gets SIGTERM, then SIGKILL after the grace period (nothing left to wait on).
      if (OWN_PROCESS_GROUP) {
        signal(child, 'SIGTERM');
        setTimeout(() => signal(child, 'SIGKILL'), this.#options.killGraceMs ?? DEFAULT_KILL_GRACE_MS).unref();
      }
      return;
    }
    child.stdin.end();
    signal(child, 'SIGTERM');
    const grace = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), this.#options.killGraceMs ?? DEFAULT_KILL_GRACE_MS).unref());
    if ((await Promise.race([this.exited, grace])) === 'late') {
      this.#options.logger.warn('upstream MCP server ignored SIGTERM; killing it', { upstream_pid: child.pid });
      signal(child, 'SIGKILL');
      await this.exited;
    }
  }
}

function signal(child: Child, name: NodeJS.Signals): void {
  try {
    if (OWN_PROCESS_GROUP && child.pid !== undefined) process.kill(-child.pid, name);
    else child.kill(name);
  } catch {
    // Already gone.
  }
}

/**
 * Children still running. If the gateway process exits without closing its sessions (an uncaught
 * error, process.exit), their process groups are killed on the way out rather than left orphaned:
 * a stdio server that ignores the end of its stdin would otherwise run forever.
 */
const liveChildren = new Set<Child>();
process.once('exit', () => {
  for (const child of liveChildren) signal(child, 'SIGKILL');
});
