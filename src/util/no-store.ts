/** Headers of a response that must never be cached: credentials, challenges, errors (RFC 6749 §5.1, RFC 6750 §3). */
export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;
