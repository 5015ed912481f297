import { resolveConfig } from '../../src/config/resolve.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createMemoryLogger } from '../../src/log/logger.ts';
import { createPortcullis, type Portcullis } from '../../src/portcullis.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/open.ts';
import type { Storage } from '../../src/storage/types.ts';
import { ManualClock } from '../../src/util/clock.ts';

export const TEST_ORIGIN = 'http://localhost:3000';

/**
 * An in-process Portcullis on an in-memory SQLite store with a manual clock and a logger that keeps
 * every line (so tests can assert nothing secret was logged). Outbound fetch fails unless a test
 * injects its own: tests never touch the network.
 */
export async function createTestApp(config: ConfigInput = {}, options: { fetch?: typeof fetch; storage?: Storage } = {}) {
  const clock = new ManualClock(Date.now());
  const logger = createMemoryLogger();
  const storage = options.storage ?? (await openSqliteStorage(':memory:'));
  const portcullis: Portcullis = await createPortcullis({
    config: resolveConfig({ publicUrl: TEST_ORIGIN, database: ':memory:', ...config }),
    storage,
    clock,
    logger,
    fetch: options.fetch ?? (async (input) => {
      throw new Error(`unexpected outbound fetch in a test: ${String(input)}`);
    }),
  });
  const request = (path: string, init?: RequestInit): Promise<Response> =>
    Promise.resolve(portcullis.app.fetch(new Request(new URL(path, TEST_ORIGIN), init)));
  return { ...portcullis, clock, logger, storage, request, origin: TEST_ORIGIN };
}

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;
