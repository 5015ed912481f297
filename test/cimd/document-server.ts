/**
 * A client's web server for the CIMD tests: serves metadata documents from 127.0.0.1 (over http, or
 * over https with a certificate made at test time), each path scripted, every request counted.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import type { TestCertificate } from '../fixtures/stytch/https.ts';

export interface Route {
  status?: number;
  headers?: Record<string, string>;
  /** A value to serve as JSON, or a raw string body. */
  body?: unknown;
  /** Wait this long before answering. */
  delayMs?: number;
}

export interface DocumentServer {
  /** `http://127.0.0.1:<port>` or `https://localhost:<port>`. */
  origin: string;
  /** Sets what `path` answers; `route` may be a function of the URL the document must claim. */
  serve(path: string, route: Route | ((url: string) => Route)): string;
  /** How many requests `path` has had. */
  hits(path: string): number;
  close(): Promise<void>;
}

export async function startDocumentServer(certificate?: TestCertificate): Promise<DocumentServer> {
  const routes = new Map<string, Route | ((url: string) => Route)>();
  const counts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let origin = '';
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const entry = routes.get(path);
    const route = typeof entry === 'function' ? entry(origin + path) : entry;
    const answer = () => {
      if (!route) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      const body = typeof route.body === 'string' ? route.body : JSON.stringify(route.body ?? {});
      res.writeHead(route.status ?? 200, { 'content-type': 'application/json', ...route.headers }).end(body);
    };
    if (route?.delayMs) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) answer();
      }, route.delayMs);
      timers.add(timer);
    } else answer();
  };
  const server: Server = certificate ? createHttpsServer({ cert: certificate.cert, key: certificate.key }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  origin = certificate ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
  return {
    origin,
    serve(path, route) {
      routes.set(path, route);
      return origin + path;
    },
    hits: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A valid document for `url` with one loopback redirect URI; `extra` overrides or adds fields. */
export function clientDocument(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: url,
    client_name: 'Notes Cloud',
    redirect_uris: ['http://127.0.0.1:8765/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...extra,
  };
}

/**
 * An outbound fetch for Portcullis that trusts the test certificate: the test's certificate authority
 * replaces the SSRF guard's pinning dispatcher for this one test server (https documents on 127.0.0.1).
 */
export function fetchTrusting(certificate: TestCertificate): { fetch: typeof fetch; close(): Promise<void> } {
  const trusting = new Agent({ connect: { ca: certificate.cert } });
  const trustingFetch = ((input: string | URL | Request, init?: RequestInit) => fetch(input, { ...init, dispatcher: trusting } as RequestInit)) as typeof fetch;
  return { fetch: trustingFetch, close: () => trusting.close() };
}
