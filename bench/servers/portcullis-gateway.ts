import { resolveConfig } from '../../src/config/resolve.ts';
import { configSchema } from '../../src/config/schema.ts';
import { startNodeServer } from '../../src/runtime/node.ts';
import type { RunningServer } from './types.ts';

/** The credential the gateway presents upstream (the upstream does not check it; it costs a header, as in production). */
const GATEWAY_CREDENTIAL = 'bench-gateway-credential-0123456789';

/**
 * Portcullis in gateway mode, as `portcullis start --upstream <url>` runs it: the Node runtime, JSON
 * logs, default settings. It shares the bench's SQLite file and public URL with the main server,
 * so the access tokens that server issues (same keys, same issuer and resource) are valid here: the
 * gateway verifies a real token on every call. It keeps the core's scopes (the main server's
 * tokens carry them) and requires `tasks:read` of every relayed request.
 */
export async function startPortcullisGateway(spec: { database: string; publicUrl: string; upstreamUrl: string }): Promise<RunningServer> {
  const { scopes } = configSchema.parse({});
  const config = resolveConfig({
    host: '127.0.0.1',
    port: 0,
    database: spec.database,
    publicUrl: spec.publicUrl,
    scopes,
    upstream: { url: spec.upstreamUrl, requiredScopes: ['tasks:read'], bearerToken: GATEWAY_CREDENTIAL },
  });
  const server = await startNodeServer(config, { handleSignals: false });
  return { ports: { main: Number(server.listening.slice(server.listening.lastIndexOf(':') + 1)) }, close: () => server.close() };
}
