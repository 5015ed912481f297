import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningServer } from './types.ts';

/** RFC 9110 §7.6.1: not forwarded by any proxy. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
  return out;
}

/**
 * BENCH ONLY: the gateway's limit. The least a reverse proxy in Node can do — node:http in, node:http
 * out over keep-alive connections, bodies piped through both ways as they arrive (so SSE streams),
 * hop-by-hop headers dropped — and nothing else: no authentication, no session binding, no header
 * allow-lists. The gateway relays the same calls to the same upstream in the same run; its CPU per
 * call over this one's is the relay ratio.
 */
export async function startBareProxy(spec: { upstreamUrl: string }): Promise<RunningServer> {
  const upstream = new URL(spec.upstreamUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const server = createServer((req, res) => {
    const forward = httpRequest({ agent, host: upstream.hostname, port: upstream.port, method: req.method, path: upstream.pathname, headers: endToEnd(req.headers) }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
    });
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    // The client went away: so does the upstream exchange.
    res.on('close', () => {
      if (!res.writableFinished) forward.destroy();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    ports: { main: (server.address() as AddressInfo).port },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
