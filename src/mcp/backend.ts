import type { Principal } from '../resource/guard.ts';

/**
 * What serves the MCP endpoint once it has checked a request's Origin, token and scopes: the
 * built-in SDK server with its tools (./built-in.ts) or, in gateway mode, an upstream MCP server
 * (src/gateway/gateway.ts). Chosen once at assembly (src/portcullis.ts); the endpoint never asks
 * which one it has.
 */
export interface McpBackend {
  /** Every scope a request calling `toolNames` needs, in one list (RS-13b); none called: what every request needs. */
  requiredScopes(toolNames: readonly string[]): readonly string[];
  /**
   * Serves one MCP request that the endpoint has already checked: Origin, token (RS-17/RS-21) and
   * scopes. `parsedBody` is the POST body, already read; undefined for GET and DELETE. `principal`
   * null: a caller without a token, let through by the tool policy's `public` (only what it lets
   * anyone do); it is served as nobody, in sessions of its own (./session-table.ts `ANONYMOUS_OWNER`).
   */
  handle(request: Request, principal: Principal | null, parsedBody: unknown): Promise<Response>;
  /** Number of live MCP sessions. */
  readonly sessionCount: number;
  /** Ends sessions idle for longer than `mcpSessionIdleTtl`; returns how many. Also runs on a timer. */
  sweep(): Promise<number>;
  /** Ends every session and in-flight exchange (shutdown). */
  close(): Promise<void>;
}
