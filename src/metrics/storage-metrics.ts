import type { Storage } from '../storage/types.ts';
import { secondsSince, type Metrics } from './metrics.ts';

/** Not storage work worth a series: closing, and `ping`/`writeProblem`, which /readyz calls on a load balancer's schedule. */
const UNTIMED = new Set(['close', 'ping', 'writeProblem']);

/**
 * The store with every operation timed into `portcullis_storage_operation_duration_seconds`, labelled
 * `<group>.<operation>` (`grants.get`, `refreshTokens.rotate`): the contract's own names, a fixed set.
 * Failed operations are timed too. Wraps the contract, so it measures every backend alike.
 */
export function timedStorage(storage: Storage, metrics: Metrics): Storage {
  const timed = <F extends (...args: never[]) => Promise<unknown>>(operation: string, fn: F): F => {
    const observe = metrics.storageSeconds.labels({ operation });
    return (async (...args: Parameters<F>) => {
      const start = performance.now();
      try {
        return await fn(...args);
      } finally {
        observe.observe(secondsSince(start));
      }
    }) as F;
  };
  const out: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(storage) as [string, unknown][]) {
    if (typeof member === 'function') out[name] = UNTIMED.has(name) ? member : timed(name, member as never);
    else if (member !== null && typeof member === 'object') {
      out[name] = Object.fromEntries(Object.entries(member).map(([op, fn]) => [op, typeof fn === 'function' ? timed(`${name}.${op}`, fn as never) : fn]));
    } else out[name] = member;
  }
  return out as unknown as Storage;
}
