/**
 * The loopback host names: where plain http is acceptable (RFC 8252 §7.3, MCP AS-22) and where a
 * development server listens. URL parsing writes IPv6 as `[::1]`; a listen address may be bare `::1`.
 */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
