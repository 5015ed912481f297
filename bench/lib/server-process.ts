import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildReply, ChildRequest, Listener, ServerSpec, Usage } from '../servers/types.ts';

const CHILD = fileURLToPath(new URL('../servers/child.ts', import.meta.url));
const REPLY_TIMEOUT_MS = 120_000;

export interface ServerProcessOptions {
  /** Command prefix that pins the child to its core, e.g. `['taskset', '-c', '0']`; empty when not pinning. */
  pin: readonly string[];
  /** Names the server in reports and profile files. */
  label: string;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };

/** A benchmarked server in its own process, driven over IPC (see `servers/child.ts`). */
export class ServerProcess {
  readonly label: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #ports: Partial<Record<Listener, number>> = {};

  private constructor(label: string, child: ChildProcess) {
    this.label = label;
    this.#child = child;
  }

  /** The port of a listener (`main` unless named). */
  port(listener: Listener = 'main'): number {
    const port = this.#ports[listener];
    if (port === undefined) throw new Error(`${this.label} has no ${listener} listener`);
    return port;
  }

  origin(listener: Listener = 'main'): string {
    return `http://127.0.0.1:${this.port(listener)}`;
  }

  static async start(spec: ServerSpec, options: ServerProcessOptions): Promise<ServerProcess> {
    const nodeArgs = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', '--expose-gc'];
    const [command, ...prefix] = [...options.pin, process.execPath];
    // stdout (JSON logs, audit lines) is discarded; stderr is kept for the error report.
    const child = spawn(command!, [...prefix, ...nodeArgs, CHILD], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const server = new ServerProcess(options.label, child);
    const pending = server.#pending;
    const failAll = (error: Error): void => {
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(error);
      }
      pending.clear();
    };
    child.on('message', (reply: ChildReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      clearTimeout(p.timer);
      if (reply.ok) p.resolve(reply.value);
      else p.reject(new Error(`${options.label}: ${reply.error}`));
    });
    child.on('exit', (code, signal) => failAll(new Error(`${options.label} exited (${signal ?? code}): ${stderr}`)));
    try {
      server.#ports = (await server.#request({ type: 'start', spec })) as Partial<Record<Listener, number>>;
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return server;
  }

  #request(message: { type: ChildRequest['type'] } & Record<string, unknown>): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.label}: no reply to ${message.type} within ${REPLY_TIMEOUT_MS} ms`));
      }, REPLY_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      this.#child.send({ ...message, id });
    });
  }

  /** CPU time and memory of the server process now. */
  usage(): Promise<Usage> {
    return this.#request({ type: 'usage' }) as Promise<Usage>;
  }

  /** Memory after a forced full garbage collection. */
  collectGarbage(): Promise<Usage> {
    return this.#request({ type: 'gc' }) as Promise<Usage>;
  }

  command(name: string, payload: unknown): Promise<unknown> {
    return this.#request({ type: 'command', name, payload });
  }

  /** Runs `work` under the V8 sampling profiler of the server process and writes the profile to `file`. */
  async profiled<T>(file: string | undefined, work: () => Promise<T>): Promise<T> {
    if (!file) return work();
    await this.#request({ type: 'profile-start' });
    try {
      return await work();
    } finally {
      await this.#request({ type: 'profile-stop', file });
    }
  }

  /** Stops the server and waits for the process to exit. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    try {
      await this.#request({ type: 'stop' });
    } catch {
      this.#child.kill('SIGKILL');
    }
    const deadline = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(deadline);
  }
}
