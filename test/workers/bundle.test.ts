import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { COMPATIBILITY_DATE, COMPATIBILITY_FLAGS, CRON } from '../../scripts/workers/local.ts';
import { startWorker, workerBundle } from './harness.ts';

/** Cloudflare's limits on a Worker's compressed size: Free and Paid plans. */
const FREE_PLAN_GZIP_LIMIT = 3 * 1024 * 1024;

describe('Workers: the bundle wrangler deploys, and a Worker that cannot start says why', () => {
  it('wrangler deploy --dry-run bundles the Worker within the Free plan’s size limit, without the Node-only packages', async (t) => {
    const bundle = await workerBundle();
    const gzipped = gzipSync(bundle.code).length;
    t.diagnostic(`Worker bundle: ${(bundle.bytes / 1024 / 1024).toFixed(2)} MB, ${(gzipped / 1024).toFixed(0)} KiB gzipped; wrangler: ${/Total Upload: .*/.exec(bundle.report)?.[0] ?? '?'}`);
    assert.ok(gzipped < FREE_PLAN_GZIP_LIMIT, `${gzipped} bytes gzipped`);
    assert.match(bundle.report, /Total Upload: /);
    // wrangler.jsonc's alias leaves undici (a megabyte) and pg out: the Worker runs neither.
    assert.ok(!bundle.code.includes('undici/lib/dispatcher'), 'undici is not bundled');
    assert.ok(!bundle.code.includes('pg-protocol'), 'pg is not bundled');
  });

  it('the local Worker (dev:workers, these tests) runs as wrangler.jsonc deploys it: same date, flags, Cron Trigger, D1 binding', () => {
    // wrangler.jsonc keeps its comments on lines of their own.
    const text = readFileSync(new URL('../../wrangler.jsonc', import.meta.url), 'utf8').split('\n').filter((line) => !/^\s*\/\//.test(line)).join('\n');
    const config = JSON.parse(text) as { main: string; compatibility_date: string; compatibility_flags: string[]; triggers: { crons: string[] }; d1_databases: { binding: string }[] };
    assert.equal(config.main, 'src/runtime/workers.ts');
    assert.equal(config.compatibility_date, COMPATIBILITY_DATE);
    assert.deepEqual(config.compatibility_flags, COMPATIBILITY_FLAGS);
    assert.deepEqual(config.triggers.crons, [CRON]);
    assert.deepEqual(config.d1_databases.map((d) => d.binding), ['DB']);
  });

  it('a Worker without its key-encryption key answers 503 naming the secret to set, and logs no secret', async () => {
    const worker = await startWorker({ vars: { PORTCULLIS_KEY_ENCRYPTION_KEY: '', STYTCH_SECRET: 'secret-test-must-not-be-logged' } });
    try {
      const response = await fetch(`${worker.origin}/.well-known/oauth-authorization-server`);
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('Retry-After'), '5');
      const body = (await response.json()) as { error: string; error_description: string };
      assert.equal(body.error, 'server_error');
      assert.match(body.error_description, /wrangler secret put PORTCULLIS_KEY_ENCRYPTION_KEY/);
      assert.ok(worker.logs.some((l) => l.includes('portcullis could not start')));
      assert.ok(!worker.logs.join('\n').includes('secret-test-must-not-be-logged'));
    } finally {
      await worker.close();
    }
  });

  it('a Worker reached at another origin than its PORTCULLIS_PUBLIC_URL says so in its log, once', async () => {
    const worker = await startWorker({ vars: { PORTCULLIS_PUBLIC_URL: 'https://portcullis.example.workers.dev' } });
    try {
      for (let i = 0; i < 3; i++) {
        const answer = await fetch(`${worker.origin}/.well-known/oauth-authorization-server`);
        assert.equal(((await answer.json()) as { issuer: string }).issuer, 'https://portcullis.example.workers.dev');
      }
      const warnings = worker.logs.filter((l) => l.includes('request at another origin than PORTCULLIS_PUBLIC_URL'));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, new RegExp(`"origin":"${worker.origin}"`));
    } finally {
      await worker.close();
    }
  });

  it('the stdio gateway on Workers: 503 with the reason, not a crash', async () => {
    const worker = await startWorker({ vars: { PORTCULLIS_UPSTREAM_COMMAND: 'npx -y @modelcontextprotocol/server-everything' } });
    try {
      const response = await fetch(`${worker.origin}/mcp`, { method: 'POST' });
      assert.equal(response.status, 503);
      assert.match(((await response.json()) as { error_description: string }).error_description, /PORTCULLIS_UPSTREAM_COMMAND cannot be used on Cloudflare Workers/);
    } finally {
      await worker.close();
    }
  });
});
