import { resolveConfig } from '../../src/config/resolve.ts';
import { startNodeServer } from '../../src/runtime/node.ts';
import { listenOnLoopback } from './listen.ts';
import { createNoAuthMcpApp } from './portcullis-no-auth.ts';
import type { FixedPrincipal, RunningServer } from './types.ts';

/**
 * The product as `npm start` runs it: the Node runtime (`startNodeServer`) on a SQLite file, with
 * its default settings (but the per-address /authorize and /token limits, raised: still counted, never reached) and JSON logs (audit lines included; the runner discards stdout). With
 * `noAuth`, a second listener in the same process serves the bench-only auth-off MCP endpoint
 * over the same context.
 */
export async function startPortcullis(spec: { database: string; noAuth?: FixedPrincipal }): Promise<RunningServer> {
  // One load generator on loopback plays thousands of browsers and clients: the per-address limits would stop it.
  // Raised, not removed: every request still pays for its counter, as in production.
  const config = resolveConfig({ host: '127.0.0.1', port: 0, database: spec.database, authorizePerMinute: 100_000_000, tokenPerMinute: 100_000_000 });
  const server = await startNodeServer(config, { handleSignals: false });
  const main = Number(server.listening.slice(server.listening.lastIndexOf(':') + 1));
  if (!spec.noAuth) return { ports: { main }, close: () => server.close() };

  const endpoint = createNoAuthMcpApp(server.portcullis.ctx, spec.noAuth);
  const noAuth = await listenOnLoopback(endpoint.app);
  return {
    ports: { main, noAuth: noAuth.port },
    async close() {
      await noAuth.close();
      await endpoint.close();
      await server.close();
    },
  };
}
