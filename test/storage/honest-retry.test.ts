import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { honestRetryRanges, isHonestRetry, type RetryInput } from '../../src/storage/sql/kysely-storage.ts';

/** HARD-9 as README "Refresh tokens" states it, written out directly: the rule the ranges must encode. */
function statedRule(rotatedAt: number, { now, gracePeriodMs, startedAt, restartWindowMs = 0 }: RetryInput): boolean {
  const withinGrace = now - rotatedAt <= gracePeriodMs;
  const acrossRestart =
    gracePeriodMs > 0 && startedAt !== undefined && rotatedAt < startedAt && startedAt - rotatedAt <= restartWindowMs && now - startedAt <= gracePeriodMs;
  return withinGrace || acrossRestart;
}

describe('HARD-9 the retry rule as ranges of rotation times (D1 checks it inside its batch)', () => {
  it('HARD-9 the ranges admit exactly the rotation times the stated rule calls a retry', () => {
    const T = 1_800_000_000_000;
    const time = fc.integer({ min: T - 3_600_000, max: T + 3_600_000 });
    fc.assert(
      fc.property(
        time,
        time,
        fc.integer({ min: 0, max: 120_000 }),
        fc.option(time, { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 1_800_000 }), { nil: undefined }),
        (rotatedAt, now, gracePeriodMs, startedAt, restartWindowMs) => {
          const input: RetryInput = { now, gracePeriodMs, ...(startedAt !== undefined ? { startedAt } : {}), ...(restartWindowMs !== undefined ? { restartWindowMs } : {}) };
          assert.equal(isHonestRetry(rotatedAt, input), statedRule(rotatedAt, input));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('HARD-9 edges: the grace period includes its last millisecond; the restart window ends before the start', () => {
    const input = { now: 100_000, gracePeriodMs: 30_000, startedAt: 90_000, restartWindowMs: 60_000 };
    assert.deepEqual(honestRetryRanges(input), [
      [70_000, Number.MAX_SAFE_INTEGER],
      [30_000, 90_000],
    ]);
    assert.equal(isHonestRetry(70_000, input), true);
    assert.equal(isHonestRetry(29_999, input), false);
    assert.equal(isHonestRetry(30_000, input), true);
    assert.deepEqual(honestRetryRanges({ ...input, gracePeriodMs: 0 }), [[100_000, Number.MAX_SAFE_INTEGER]], 'strict mode: no restart range');
  });
});
