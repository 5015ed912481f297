import { resolveConfig } from '../../src/config/resolve.ts';
import { startNodeServer } from '../../src/runtime/node.ts';
import { listenOnLoopback } from './listen.ts';
import { createNoAuthMcpApp } from './portcullis-no-auth.ts';
import type { FixedPrincipal, RunningServer } from './types.ts';
import type { AppContext } from '../../src/context.ts';
import { issueAccessToken } from '../../src/authorization/access-token.ts';
import { randomBytes } from 'node:crypto';

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
  const command = (name: string, payload: unknown) => benchCommand(server.portcullis.ctx, name, payload);
  if (!spec.noAuth) return { ports: { main }, close: () => server.close(), command };

  const endpoint = createNoAuthMcpApp(server.portcullis.ctx, spec.noAuth);
  const noAuth = await listenOnLoopback(endpoint.app);
  return {
    ports: { main, noAuth: noAuth.port },
    command,
    async close() {
      await noAuth.close();
      await endpoint.close();
      await server.close();
    },
  };
}

/**
 * `issue-dpop-token`: an access token bound to a DPoP key (`cnf.jkt`), in a grant of its own, made by
 * the server's own token code: what /token answers a DPoP token request with (RFC 9449 §5).
 */
async function benchCommand(ctx: AppContext, name: string, payload: unknown): Promise<unknown> {
  if (name !== 'issue-dpop-token') throw new Error(`unknown command ${name}`);
  const { subject, clientId, scopes, jkt } = payload as { subject: string; clientId: string; scopes: string[]; jkt: string };
  const now = ctx.clock.now();
  const grantId = `gnt_bench_dpop_${randomBytes(12).toString('base64url')}`;
  await ctx.storage.grants.create({ id: grantId, userId: subject, clientId, scopes, resource: ctx.config.resource, createdAt: now, expiresAt: now + 86_400_000, revokedAt: null });
  return (await issueAccessToken(ctx, { subject, clientId, scopes, resource: ctx.config.resource, grantId, dpopJkt: jkt })).token;
}
