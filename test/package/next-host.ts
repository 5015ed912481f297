/**
 * The Next.js example's route handlers served over HTTP on 127.0.0.1:$PORT, standing in for Next.js
 * (see ../examples/next-app.ts), for a copy of the example in a project that installed the package:
 * `node --experimental-strip-types next-host.ts <that copy's app/ folder>`. Prints its MCP endpoint as
 * the other examples do.
 */
import { serve } from '@hono/node-server';
import { pathToFileURL } from 'node:url';
import { loadNextExample } from '../examples/next-app.ts';

const app = process.argv[2];
if (!app) throw new Error('usage: next-host.ts <app folder>');
const port = Number(process.env.PORT ?? '3000');
const publicUrl = `http://127.0.0.1:${port}`;
const routes = await loadNextExample({ PUBLIC_URL: publicUrl }, pathToFileURL(`${app}/`));
serve({ fetch: (request) => routes(request), hostname: '127.0.0.1', port }, () => console.log(`MCP endpoint ${publicUrl}/mcp`));
