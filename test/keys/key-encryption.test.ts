import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/resolve.ts';
import { createUpstreamTransaction, takeUpstreamTransaction } from '../../src/identity/upstream-transactions.ts';
import type { UpstreamIdentityProvider } from '../../src/identity/providers/types.ts';
import { KeyEncryptionError, KeyRing, newKeyEncryptionKeyText, parseKeyEncryptionKey } from '../../src/keys/key-encryption.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { hashSecret, systemRandom } from '../../src/util/crypto.ts';

describe('HARD-4 sealed values (AES-256-GCM under the key-encryption key)', () => {
  const kek = parseKeyEncryptionKey(newKeyEncryptionKeyText(), 'PORTCULLIS_KEY_ENCRYPTION_KEY');
  const ring = new KeyRing(kek);

  it('round-trips, never shows the plaintext, and names the key that sealed it', () => {
    const sealed = ring.seal('setting a', 'the secret');
    assert.ok(!sealed.includes('the secret') && sealed.startsWith(`pcenc1.${kek.id}.`));
    assert.notEqual(ring.seal('setting a', 'the secret'), sealed, 'a fresh IV each time');
    assert.equal(ring.open('setting a', sealed), 'the secret');
  });

  it('a value moved to another row, or altered, does not open', () => {
    const sealed = ring.seal('setting a', 'the secret');
    assert.throws(() => ring.open('setting b', sealed), KeyEncryptionError);
    const [v, id, iv, body] = sealed.split('.') as [string, string, string, string];
    const flipped = Buffer.from(body, 'base64url');
    flipped[0]! ^= 1;
    assert.throws(() => ring.open('setting a', [v, id, iv, flipped.toString('base64url')].join('.')), /altered or moved/);
    assert.throws(() => ring.open('setting a', 'the secret'), /not encrypted/);
  });

  it('a value of an unknown key is an error naming both settings and both key ids, never a key', () => {
    const other = new KeyRing(parseKeyEncryptionKey(newKeyEncryptionKeyText(), 'x'));
    assert.throws(
      () => other.open('setting a', ring.seal('setting a', 'v')),
      (e: Error) => e instanceof KeyEncryptionError && e.message.includes(kek.id) && e.message.includes(other.current.id) && /PORTCULLIS_KEY_ENCRYPTION_KEY/.test(e.message) && /PORTCULLIS_PREVIOUS_KEY_ENCRYPTION_KEYS/.test(e.message),
    );
    // With the old key among the previous ones, it opens.
    assert.equal(new KeyRing(other.current, [kek]).open('setting a', ring.seal('setting a', 'v')), 'v');
  });

  it('a key must be 32 bytes of base64url; the error does not echo it', () => {
    assert.throws(() => parseKeyEncryptionKey('c2hvcnQ', 'PORTCULLIS_KEY_ENCRYPTION_KEY'), (e: Error) => /PORTCULLIS_KEY_ENCRYPTION_KEY must be 32 random bytes/.test(e.message) && !e.message.includes('c2hvcnQ'));
    assert.equal(parseKeyEncryptionKey(Buffer.alloc(32, 7).toString('base64'), 's').id, parseKeyEncryptionKey(Buffer.alloc(32, 7).toString('base64url'), 's').id);
  });
});

describe('HARD-4 upstream login transactions: the stored PKCE verifier and nonce are sealed with a key the database does not hold', () => {
  it('storage holds neither in clear, and the callback from the same browser gets both back', async () => {
    const storage = await openSqliteStorage(':memory:');
    const clock = new ManualClock(Date.now());
    const ctx = { config: resolveConfig({}), storage, clock, random: systemRandom };
    const provider = { kind: 'oidc' } as UpstreamIdentityProvider;
    const request = { handle: 'req-1', expiresAt: clock.now() + 600_000 };
    const start = async () => ({ url: 'https://idp.example/authorize', codeVerifier: 'v'.repeat(43), nonce: 'the-nonce' });
    try {
      const first = await createUpstreamTransaction(ctx, new Request('http://localhost/'), request, provider, start);
      const stored = await storage.upstreamTransactions.take(hashSecret(first.state), clock.now());
      assert.ok(stored?.codeVerifier && stored.nonce);
      assert.ok(!stored.codeVerifier.includes('v'.repeat(43)) && !stored.nonce.includes('the-nonce'));

      const second = await createUpstreamTransaction(ctx, new Request('http://localhost/'), request, provider, start);
      const cookie = second.setCookie.split(';')[0]!;
      const taken = await takeUpstreamTransaction(ctx, new Request('http://localhost/callback', { headers: { Cookie: cookie } }), second.state, provider);
      assert.equal(taken.status, 'ok');
      assert.deepEqual(taken.status === 'ok' && [taken.transaction.codeVerifier, taken.transaction.nonce], ['v'.repeat(43), 'the-nonce']);
    } finally {
      await storage.close();
    }
  });
});
