import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/resolve.ts';
import { MAX_AGE_MS, sealedSessions } from '../../src/gateway/http/sealed-sessions.ts';
import { createServerSecrets } from '../../src/keys/server-secrets.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { systemRandom } from '../../src/util/crypto.ts';

const ALICE = { subject: 'usr_alice', clientId: 'client-1', scopes: ['mcp'] };

async function sessions(clock = new ManualClock()) {
  const storage = await openSqliteStorage(':memory:');
  const ctx = { config: resolveConfig({ database: ':memory:' }), secrets: createServerSecrets(storage, systemRandom), clock, logger: silentLogger, random: systemRandom };
  return { sessions: sealedSessions(ctx), clock, close: () => storage.close() };
}

/** One character in the middle changed (the last may carry only padding bits). */
const altered = (handle: string): string => {
  const at = Math.floor(handle.length / 2);
  return `${handle.slice(0, at)}${handle[at] === 'A' ? 'B' : 'A'}${handle.slice(at + 1)}`;
};

describe('RS-22/RS-23 gateway sessions sealed in their handles (Workers)', () => {
  it('the handle opens to its upstream session for its opener only, and does not show the upstream id', async () => {
    const s = await sessions();
    try {
      const bound = (await s.sessions.bind('upstream-session-1', ALICE))!;
      assert.ok(!Buffer.from(bound.id, 'base64url').toString('latin1').includes('upstream-session-1'));
      assert.equal((await s.sessions.find(bound.id, ALICE))?.upstreamId, 'upstream-session-1');
      assert.equal(await s.sessions.find(bound.id, { ...ALICE, subject: 'usr_mallory' }), undefined, 'another user');
      assert.equal(await s.sessions.find(bound.id, { ...ALICE, clientId: 'client-2' }), undefined, 'the same user through another client');
      const again = (await s.sessions.bind('upstream-session-1', ALICE))!;
      assert.notEqual(again.id, bound.id, 'a fresh IV each time: no handle repeats');
    } finally {
      await s.close();
    }
  });

  it('an altered, truncated, foreign or over-long handle opens to nothing', async () => {
    const s = await sessions();
    const other = await sessions();
    try {
      const { id } = (await s.sessions.bind('upstream-session-1', ALICE))!;
      const foreign = (await other.sessions.bind('upstream-session-1', ALICE))!.id;
      for (const handle of [altered(id), id.slice(0, 30), foreign, 'A'.repeat(2000), 'not a handle!', '']) {
        assert.equal(await s.sessions.find(handle, ALICE), undefined, handle.slice(0, 40));
      }
    } finally {
      await s.close();
      await other.close();
    }
  });

  it('a handle is refused once it is a day old', async () => {
    const s = await sessions();
    try {
      const { id } = (await s.sessions.bind('upstream-session-1', ALICE))!;
      s.clock.advance(MAX_AGE_MS - 1);
      assert.ok(await s.sessions.find(id, ALICE));
      s.clock.advance(1);
      assert.equal(await s.sessions.find(id, ALICE), undefined);
    } finally {
      await s.close();
    }
  });
});
