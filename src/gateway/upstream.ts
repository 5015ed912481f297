import type { McpBackend } from '../mcp/backend.ts';

/**
 * An upstream MCP server behind the gateway: HTTP (./http/upstream.ts) or stdio (./stdio/upstream.ts).
 * It serves requests as an MCP backend does; the gateway (./gateway.ts) adds the scopes they need.
 */
export type Upstream = Omit<McpBackend, 'requiredScopes'>;
