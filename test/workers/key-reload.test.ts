import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyStore } from '../../src/keys/keystore.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { KEY_RELOAD_MS } from '../../src/runtime/housekeeping.ts';
import { keyReloader } from '../../src/runtime/key-reload.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { ManualClock } from '../../src/util/clock.ts';

describe('Workers: signing keys re-read by requests, since no timer runs between them', () => {
  it('a rotation made elsewhere is picked up by the first request a minute after the last read, in the background, once', async () => {
    const storage = await openSqliteStorage(':memory:');
    try {
      const clock = new ManualClock();
      // The isolate's key store, and another instance (or the CLI) on the same database.
      const keys = await KeyStore.open(storage, clock, 'ES256');
      const elsewhere = await KeyStore.load(storage, clock, 'ES256');
      const before = keys.activeKid;
      const reload = keyReloader({ keys, clock, logger: silentLogger });

      clock.advance(1_000);
      const rotated = await elsewhere.rotate(3_600_000);
      const background: Promise<void>[] = [];
      reload((work) => background.push(work));
      assert.equal(background.length, 0, 'not yet due: nothing is read');
      assert.equal(keys.activeKid, before);

      clock.advance(KEY_RELOAD_MS);
      reload((work) => background.push(work));
      reload((work) => background.push(work));
      assert.equal(background.length, 1, 'due: one read, however many requests ask');
      await Promise.all(background);
      assert.equal(keys.activeKid, rotated.kid, 'signs with the new key');
      assert.deepEqual(keys.jwks().keys.map((k) => k.kid).sort(), [before, rotated.kid].sort(), 'publishes both while the old one may still verify');
    } finally {
      await storage.close();
    }
  });
});
