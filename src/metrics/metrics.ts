import { Counter, Histogram, Registry } from 'prom-client';

/**
 * The server's Prometheus metrics (`prom-client`), one registry per app so that several apps in one
 * process (tests, an embedding program) never mix their counts. Labels take only values from small
 * fixed sets (route patterns, grant types, status codes, reasons): never a client id, an address
 * or a path with ids in it, which would grow the series without bound.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly requestSeconds: Histogram<'route'>;
  readonly tokensIssued: Counter<'grant_type'>;
  readonly refreshReuse: Counter;
  readonly loginFailures: Counter<'reason'>;
  readonly registrations: Counter<'reused'>;
  readonly rateLimited: Counter<'limit'>;
  readonly upstreamSeconds: Histogram<'transport'>;
  readonly upstreamErrors: Counter<'transport' | 'status'>;
  readonly storageSeconds: Histogram<'operation'>;
}

/** Storage operations take tens of microseconds on SQLite and milliseconds on a remote PostgreSQL. */
const STORAGE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    requests: new Counter({ name: 'portcullis_http_requests_total', help: 'HTTP requests answered, by route pattern, method and status.', labelNames: ['route', 'method', 'status'], registers }),
    requestSeconds: new Histogram({ name: 'portcullis_http_request_duration_seconds', help: 'Time to the response headers, by route pattern.', labelNames: ['route'], buckets: REQUEST_BUCKETS, registers }),
    tokensIssued: new Counter({ name: 'portcullis_tokens_issued_total', help: 'Access tokens issued, by grant type.', labelNames: ['grant_type'], registers }),
    refreshReuse: new Counter({ name: 'portcullis_refresh_token_reuse_total', help: 'Spent refresh tokens presented again: each revoked its grant.', registers }),
    loginFailures: new Counter({ name: 'portcullis_login_failures_total', help: 'Failed sign-ins, by reason.', labelNames: ['reason'], registers }),
    registrations: new Counter({ name: 'portcullis_client_registrations_total', help: 'Dynamic client registrations answered, by whether an identical client was reused.', labelNames: ['reused'], registers }),
    rateLimited: new Counter({ name: 'portcullis_rate_limited_total', help: 'Requests refused by a rate limit, by limit.', labelNames: ['limit'], registers }),
    upstreamSeconds: new Histogram({ name: 'portcullis_gateway_upstream_duration_seconds', help: 'Gateway: time until the upstream MCP server answered (response headers).', labelNames: ['transport'], buckets: REQUEST_BUCKETS, registers }),
    upstreamErrors: new Counter({ name: 'portcullis_gateway_upstream_errors_total', help: 'Gateway: requests the upstream MCP server failed (timeout 504, unavailable or refusing 502).', labelNames: ['transport', 'status'], registers }),
    storageSeconds: new Histogram({ name: 'portcullis_storage_operation_duration_seconds', help: 'Storage operations, by operation.', labelNames: ['operation'], buckets: STORAGE_BUCKETS, registers }),
  };
}

/** Seconds since `start` (from `performance.now()`). */
export const secondsSince = (start: number): number => (performance.now() - start) / 1000;
