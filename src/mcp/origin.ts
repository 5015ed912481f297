import type { ResolvedConfig } from '../config/resolve.ts';

/**
 * MCP RS-24 (Streamable HTTP security warning): a browser page on another origin must not be able
 * to drive the MCP endpoint (DNS rebinding, cross-site requests). A request without `Origin` is not
 * from a browser page and passes; a present `Origin` must be this server's own or a configured one.
 */
export function createOriginPolicy(config: Pick<ResolvedConfig, 'issuer' | 'allowedOrigins'>): (origin: string) => boolean {
  const allowed = new Set([config.issuer, ...config.allowedOrigins.map(canonicalOrigin).filter((o) => o !== null)]);
  // Browsers send the serialized origin (RFC 6454 §6.2), which is what the set holds: compare as is.
  return (origin) => allowed.has(origin);
}

/** `https://App.Example.com:443` → `https://app.example.com`; `null` and non-URLs → null (deny). */
function canonicalOrigin(value: string): string | null {
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}
