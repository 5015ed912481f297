/**
 * In the Worker bundle in place of `undici` (wrangler.jsonc `alias`): a megabyte of Node networking
 * the Worker never runs. Its two users take the platform's fetch on Workers instead: client URL
 * fetches (src/http/safe-fetch.ts) and the gateway (the Worker injects a fetch of its own, so
 * src/gateway/http/upstream-transport.ts never builds a pool). Reaching one of these is a bug.
 */
class NotOnWorkers {
  constructor() {
    throw new Error('undici is not part of the Worker: this code path is Node-only');
  }
}

export { NotOnWorkers as Agent, NotOnWorkers as Pool };
