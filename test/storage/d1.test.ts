import { after, before } from 'node:test';
import { Miniflare } from 'miniflare';
import { KeyRing } from '../../src/keys/key-encryption.ts';
import type { D1Database } from '../../src/storage/d1/binding.ts';
import { openD1Storage } from '../../src/storage/d1/open.ts';
import { describeStorageContract } from './contract.ts';
import { describeGrowthContract } from './contract-growth.ts';

/**
 * The storage contract on D1 under workerd (Miniflare), each suite on its own in-memory database.
 * Node reaches the bindings through Miniflare's proxy: every statement and batch is a real request to
 * D1 in workerd, where batches run as D1 runs them (in order, atomically, one at a time).
 */
const SHARED = ['SHARED_1', 'SHARED_2', 'SHARED_3'];
const mf = new Miniflare({
  workers: [
    {
      config: {
        name: 'd1-contract',
        compatibilityDate: '2026-11-01',
        manifest: { mainModule: 'index.js', modules: { 'index.js': { type: 'esm', contents: 'export default { fetch: () => new Response(null, { status: 404 }) };' } } },
        env: Object.fromEntries(['CONTRACT', 'GROWTH', ...SHARED].map((name) => [name, { type: 'd1' as const, id: `portcullis-${name.toLowerCase()}` }])),
      },
    },
  ],
});
const binding = (name: string) => mf.getD1Database(name) as Promise<unknown> as Promise<D1Database>;
before(() => mf.ready);
after(() => mf.dispose());

// Instances of one deployment share the key-encryption key (a Worker secret).
const keyRing = KeyRing.ephemeral();
let shared = 0;
describeStorageContract('d1 (miniflare)', async () => openD1Storage(await binding('CONTRACT'), { keyRing }), {
  async fresh() {
    const name = SHARED[shared++];
    if (!name) throw new Error('no more shared D1 databases: add a binding');
    const d1 = await binding(name);
    // Three instances open at once on an empty database: they also migrate it at once.
    return () => openD1Storage(d1, { keyRing });
  },
});
describeGrowthContract('d1 (miniflare)', async () => openD1Storage(await binding('GROWTH'), { keyRing }));
