import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';

/** A web-standard app on 127.0.0.1 (random port) behind the same Node adapter the product uses. */
export async function listenOnLoopback(app: { fetch(request: Request, env?: unknown): Response | Promise<Response> }): Promise<{ port: number; close(): Promise<void> }> {
  const server = createAdaptorServer({ fetch: (request, env) => app.fetch(request, env) }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
