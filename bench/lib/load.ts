import autocannon from 'autocannon';
import type { ServerProcess } from './server-process.ts';

export interface LoadSpec {
  /** `http://127.0.0.1:<port>` of one of the server's listeners. */
  origin: string;
  path: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** A fixed body; `[<id>]` in it is replaced by a unique id per request. */
  body?: string;
  /** A fresh body per request (e.g. a refresh token that can be used only once). */
  nextBody?: () => string;
  /** Headers made fresh for each request, over `headers` (e.g. a DPoP proof, good once). */
  nextHeaders?: () => Record<string, string>;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  /** Successful (2xx) responses per second. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** Server CPU time (user + system, all its threads) per completed request, in microseconds. */
  cpuMicrosPerRequest: number;
  /**
   * Server CPU time ÷ wall time of the run. Near 1 (one core) means the server was the bottleneck and
   * req/s measures it; well below means the load generator or a busy machine held it back, and
   * CPU µs per request is the figure to trust.
   */
  serverBusy: number;
}

export interface LoadOptions {
  connections: number;
  seconds: number;
  /** Unmeasured run first, so the JIT and caches are warm. */
  warmupSeconds: number;
  /** Record a CPU profile of the measured run into this file. */
  profileFile?: string | undefined;
}

function fire(spec: LoadSpec, connections: number, seconds: number): Promise<autocannon.Result> {
  const { nextBody, nextHeaders } = spec;
  return autocannon({
    url: `${spec.origin}${spec.path}`,
    connections,
    duration: seconds,
    method: spec.method,
    headers: spec.headers,
    ...(spec.body !== undefined ? { body: spec.body, idReplacement: spec.body.includes('[<id>]') } : {}),
    ...(nextBody || nextHeaders
      ? {
          requests: [
            {
              setupRequest: (request) => ({
                ...request,
                ...(nextBody ? { body: nextBody() } : {}),
                ...(nextHeaders ? { headers: { ...request.headers, ...nextHeaders() } } : {}),
              }),
            },
          ],
        }
      : {}),
  });
}

/**
 * Drives `server` with `connections` keep-alive connections for a fixed time and reads its CPU time
 * before and after, so CPU per request is the server's own (the load generator runs elsewhere).
 */
export async function measureLoad(server: ServerProcess, spec: LoadSpec, options: LoadOptions): Promise<LoadResult> {
  if (options.warmupSeconds > 0) await fire(spec, options.connections, options.warmupSeconds);
  const before = await server.usage();
  const result = await server.profiled(options.profileFile, () => fire(spec, options.connections, options.seconds));
  const after = await server.usage();
  const requests = result.requests.total;
  const cpuMicros = after.cpuMicros - before.cpuMicros;
  return {
    requests,
    seconds: result.duration,
    rps: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    cpuMicrosPerRequest: requests > 0 ? cpuMicros / requests : Number.NaN,
    serverBusy: cpuMicros / (result.duration * 1e6),
  };
}
