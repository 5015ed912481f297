/**
 * `npm run build:workers`: bundles the Worker as `wrangler deploy` would (its dry run) and reports the
 * size Cloudflare counts against its limit (compressed: 3 MB on the Free plan, 10 MB on Paid).
 */
import { gzipSync } from 'node:zlib';
import { buildWorkerBundle } from './workers/local.ts';

const bundle = await buildWorkerBundle();
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
process.stdout.write(`Worker bundle: ${mb(bundle.bytes)}, ${mb(gzipSync(bundle.code).length)} gzipped\n`);
