import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VerifiedTokenCache } from '../../src/resource/token-cache.ts';
import { ManualClock } from '../../src/util/clock.ts';

describe('Verified-token cache', () => {
  it('an entry lives until the token expires, never past it', () => {
    const clock = new ManualClock(0);
    const cache = new VerifiedTokenCache<string>(clock, { maxAgeMs: 60_000 });
    cache.set('t', 'v', 10_000);
    assert.equal(cache.get('t'), 'v');
    clock.advance(10_000);
    assert.equal(cache.get('t'), undefined);
  });

  it('an entry lives at most maxAgeMs even for a long-lived token', () => {
    const clock = new ManualClock(0);
    const cache = new VerifiedTokenCache<string>(clock, { maxAgeMs: 1_000 });
    cache.set('t', 'v', 3_600_000);
    clock.advance(999);
    assert.equal(cache.get('t'), 'v');
    clock.advance(1);
    assert.equal(cache.get('t'), undefined);
  });

  it('is bounded: the least recently used entry goes first', () => {
    const clock = new ManualClock(0);
    const cache = new VerifiedTokenCache<string>(clock, { maxEntries: 2 });
    cache.set('a', 'A', 60_000);
    cache.set('b', 'B', 60_000);
    assert.equal(cache.get('a'), 'A'); // a is now the most recently used
    cache.set('c', 'C', 60_000);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 'A');
    assert.equal(cache.get('c'), 'C');
  });

  it('stays bounded when every entry is in use, evicting one per insertion', () => {
    const clock = new ManualClock(0);
    const cache = new VerifiedTokenCache<number>(clock, { maxEntries: 100 });
    for (let i = 0; i < 100; i++) cache.set(`t${i}`, i, 60_000);
    for (let i = 0; i < 100; i++) cache.get(`t${i}`);
    for (let i = 100; i < 150; i++) cache.set(`t${i}`, i, 60_000);
    assert.equal(cache.size, 100);
    assert.equal(cache.get('t149'), 149, 'the newest is kept');
  });

  it('an already expired token is not stored', () => {
    const clock = new ManualClock(5_000);
    const cache = new VerifiedTokenCache<string>(clock);
    cache.set('t', 'v', 5_000);
    assert.equal(cache.size, 0);
  });
});
