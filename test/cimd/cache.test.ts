import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpiringCache } from '../../src/http/expiring-cache.ts';
import { cacheLifetimeMs, DEFAULT_LIFETIME_MS, MAX_LIFETIME_MS, MIN_LIFETIME_MS } from '../../src/http/http-cache-lifetime.ts';
import type { ClientRecord } from '../../src/storage/types.ts';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const lifetime = (headers: Record<string, string>) => cacheLifetimeMs(new Headers(headers), NOW);

describe('AS-10 / SEC-51: how long a metadata document is reused (RFC 9111 §4.2.1, within our bounds)', () => {
  it('Cache-Control max-age is honoured', () => assert.equal(lifetime({ 'cache-control': 'public, max-age=600' }), 600_000));
  it('max-age wins over Expires', () => assert.equal(lifetime({ 'cache-control': 'max-age=120', expires: new Date(NOW + 3600_000).toUTCString() }), 120_000));
  it('Expires is read relative to Date', () => {
    assert.equal(lifetime({ expires: 'Sat, 21 Nov 2026 12:30:00 GMT', date: 'Sat, 21 Nov 2026 12:00:00 GMT' }), 30 * 60_000);
  });
  it('no caching headers: the default of 5 minutes', () => assert.equal(lifetime({}), DEFAULT_LIFETIME_MS));
  it('at most 24 hours, however long the document asks for', () => assert.equal(lifetime({ 'cache-control': 'max-age=31536000' }), MAX_LIFETIME_MS));
  it('no-store, no-cache, max-age=0 and an invalid Expires get the 1-minute floor, not zero', () => {
    const cases: Record<string, string>[] = [{ 'cache-control': 'no-store' }, { 'cache-control': 'no-cache' }, { 'cache-control': 'max-age=0' }, { expires: 'not a date' }];
    for (const headers of cases) {
      assert.equal(lifetime(headers), MIN_LIFETIME_MS, JSON.stringify(headers));
    }
  });
});

describe('the document cache', () => {
  const client = (id: string) => ({ clientId: id }) as ClientRecord;
  it('forgets an entry when it expires', () => {
    const cache = new ExpiringCache<ClientRecord>();
    cache.set('https://a.example/c', client('a'), 1000, NOW);
    assert.equal(cache.get('https://a.example/c', NOW + 999)?.clientId, 'a');
    assert.equal(cache.get('https://a.example/c', NOW + 1000), null);
    assert.equal(cache.size, 0);
  });
  it('is bounded: the oldest entry goes first', () => {
    const cache = new ExpiringCache<ClientRecord>(2);
    cache.set('https://a.example/1', client('1'), 60_000, NOW);
    cache.set('https://a.example/2', client('2'), 60_000, NOW);
    cache.set('https://a.example/3', client('3'), 60_000, NOW);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('https://a.example/1', NOW), null);
    assert.equal(cache.get('https://a.example/3', NOW)?.clientId, '3');
  });
});
