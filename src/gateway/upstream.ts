import type { Principal } from '../resource/guard.ts';

/** An upstream MCP server behind the gateway: HTTP (./http/upstream.ts) or stdio (./stdio/upstream.ts). */
export interface Upstream {
  /**
   * Serves one MCP request that the endpoint has already checked: Origin, token (RS-17/RS-21) and
   * scopes. `parsedBody` is the POST body, already read; undefined for GET and DELETE.
   */
  handle(request: Request, principal: Principal, parsedBody: unknown): Promise<Response>;
  /** Ends sessions idle for longer than `mcpSessionIdleTtl`; returns how many. Also runs on a timer. */
  sweep(): Promise<number>;
  /** Number of live MCP sessions. */
  readonly sessionCount: number;
  /** Ends every session and in-flight exchange (shutdown). */
  close(): Promise<void>;
}
