import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningServer } from './types.ts';

/** A bare node:http server answering a small JSON body: calibrates the machine and the load generator. */
export async function startBare(): Promise<RunningServer> {
  const body = JSON.stringify({ ok: true });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    ports: { main: (server.address() as AddressInfo).port },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
