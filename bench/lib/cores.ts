import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface CorePlan {
  /** Command prefix that pins a server child to its core; empty when pinning is not possible. */
  serverPrefix: string[];
  /** Command prefix that puts a helper process (the gateway's upstream) on the load generator's core. */
  loadPrefix: string[];
  /** How the run was laid out, for the report. */
  description: string;
  pinned: boolean;
}

const hasTaskset = (): boolean => spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;

/**
 * One core for the server, the other for the load generator (this process), as the issue measures:
 * servers start under `taskset -c 0` and this process moves itself and all its threads to core 1.
 * Without taskset or a second core, nothing is pinned and the report says so.
 */
export function planCores(pin: boolean): CorePlan {
  if (!pin) return { serverPrefix: [], loadPrefix: [], description: 'not pinned (disabled)', pinned: false };
  if (availableParallelism() < 2) return { serverPrefix: [], loadPrefix: [], description: 'not pinned (one core)', pinned: false };
  if (!hasTaskset()) return { serverPrefix: [], loadPrefix: [], description: 'not pinned (no taskset)', pinned: false };
  const moved = spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' }).status === 0;
  if (!moved) return { serverPrefix: [], loadPrefix: [], description: 'not pinned (taskset failed)', pinned: false };
  return { serverPrefix: ['taskset', '-c', '0'], loadPrefix: ['taskset', '-c', '1'], description: 'server on core 0, load generator on core 1', pinned: true };
}
