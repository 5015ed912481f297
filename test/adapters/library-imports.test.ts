import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The library stands alone (issue 11): the package's main entry, the resource-server library
 * (src/index.ts), imports nothing of the app. The app uses the library, never the other way round.
 *
 * What the library may reach, and why:
 * - src/adapters/, src/resource/: the library itself (src/resource also holds app-only files,
 *   such as external.ts, guard.ts and verify-local.ts: they are simply never reached from here);
 * - src/util/: web-standard helpers with no app knowledge (clock, crypto, loopback, no-store);
 * - src/http/capped-body.ts: the one capped body reader, shared with the app's endpoints;
 * - src/policy/: the tool policy decision point, which the app's MCP endpoint uses too;
 * - src/dpop/proof.ts, proof-keys.ts, nonces.ts: the one DPoP proof check and nonce source (RFC 9449),
 *   shared with the app's token endpoint (src/dpop/app-dpop.ts, which knows the app, is not reached).
 * Everything else (config, gateway, log, storage, authorization, identity, keys, mcp, the app
 * assembly in src/http/app.ts and src/portcullis.ts, …) is the app's.
 */
const ALLOWED = ['src/index.ts', 'src/adapters/', 'src/resource/', 'src/util/', 'src/http/capped-body.ts', 'src/policy/', 'src/dpop/proof.ts', 'src/dpop/proof-keys.ts', 'src/dpop/nonces.ts'];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Static imports and re-exports, type-only ones included (declarations are published too). */
const STATIC_IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*${},\s]+?\s+from\s+)?['"]([^'"]+)['"]/g;

/** Every source file reachable from `entry` through relative static imports, with the file that first imported it. */
function reachableFrom(entry: string): Map<string, string | null> {
  const seen = new Map<string, string | null>();
  const queue: Array<[string, string | null]> = [[resolve(ROOT, entry), null]];
  while (queue.length > 0) {
    const [file, from] = queue.shift()!;
    if (seen.has(file)) continue;
    seen.set(file, from);
    for (const match of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      const specifier = match[1]!;
      if (specifier.startsWith('.')) queue.push([resolve(dirname(file), specifier), file]);
    }
  }
  return new Map([...seen].map(([file, from]) => [relative(ROOT, file), from === null ? null : relative(ROOT, from)]));
}

const isAllowed = (file: string): boolean => ALLOWED.some((allowed) => (allowed.endsWith('/') ? file.startsWith(allowed) : file === allowed));

describe('the library stands alone', () => {
  it('SHAPE-11 the resource-server library (src/index.ts) reaches no module of the app: config, gateway, log, storage, app assembly…', () => {
    const reached = reachableFrom('src/index.ts');
    const outside = [...reached].filter(([file]) => !isAllowed(file)).map(([file, from]) => `${file} (imported by ${from})`);
    assert.deepEqual(outside, []);
    // The walk sees the library's own graph: the resource server, through an adapter.
    for (const file of ['src/resource/resource-server.ts', 'src/adapters/express.ts', 'src/resource/verifiers/jwks.ts', 'src/util/clock.ts']) assert.ok(reached.has(file), file);
  });

  it('SHAPE-11 the import walk can fail: from the app (src/portcullis.ts) it reaches config, gateway, log and storage', () => {
    const reached = [...reachableFrom('src/portcullis.ts').keys()];
    for (const folder of ['src/config/', 'src/gateway/', 'src/log/', 'src/storage/', 'src/http/app.ts']) {
      assert.ok(reached.some((file) => file.startsWith(folder) && !isAllowed(file)), folder);
    }
  });
});
