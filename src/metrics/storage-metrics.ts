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
  // Proxies, so members defined on a prototype (a class-based backend) are timed as well; each wrapper is made once.
  const wrap = (target: object, prefix: string): object => {
    const made = new Map<PropertyKey, unknown>();
    return new Proxy(target, {
      get(object, property) {
        if (made.has(property)) return made.get(property);
        const member: unknown = Reflect.get(object, property);
        const name = prefix + String(property);
        let result = member;
        if (typeof member === 'function') result = prefix === '' && UNTIMED.has(name) ? member.bind(object) : timed(name, member.bind(object));
        else if (prefix === '' && member !== null && typeof member === 'object') result = wrap(member, `${name}.`);
        made.set(property, result);
        return result;
      },
    });
  };
  return wrap(storage, '') as Storage;
}
