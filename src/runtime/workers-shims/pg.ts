/**
 * In the Worker bundle in place of `pg` (wrangler.jsonc `alias`): a Worker's storage is D1, so the
 * PostgreSQL driver is never loaded (src/storage/open.ts imports it only for a postgres:// URL).
 */
class NotOnWorkers {
  constructor() {
    throw new Error('PostgreSQL is not available on Cloudflare Workers: the storage is the D1 binding DB');
  }
}

export default { Pool: NotOnWorkers, types: { setTypeParser: () => {}, builtins: { INT8: 20 } } };
