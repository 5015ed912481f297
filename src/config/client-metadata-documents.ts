import { z } from 'zod';

/**
 * Client ID metadata documents (MCP AS-06…AS-18, SEC-51): the trust policy for `client_id`s that are
 * https URLs, and the test-only switch that lets the SSRF guard reach private addresses.
 */
export const clientIdMetadataDocumentsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Exact host names (lower case, no port). Empty or absent: any public https host. */
    allowedHosts: z.array(z.string().regex(/^[a-z0-9.-]+$/i, 'a host name such as app.example.com')).optional(),
  })
  .default({ enabled: true })
  .describe(
    'PORTCULLIS_CIMD (`on`/`off`), PORTCULLIS_CIMD_ALLOWED_HOSTS (comma-separated). Client ID metadata documents: a client whose `client_id` is an https URL is identified by the JSON document at that URL (fetched with SSRF protection, cached per its HTTP caching headers). Trust policy (AS-18): with no allowed hosts any public https host is accepted; otherwise only the listed host names.',
  );

export const dangerouslyAllowPrivateNetworkFetchesSchema = z
  .boolean()
  .default(false)
  .describe(
    'PORTCULLIS_DANGEROUSLY_ALLOW_PRIVATE_NETWORK_FETCHES. Let fetches of client-supplied URLs (metadata documents, `jwks_uri`) reach loopback and private addresses and plain http. For tests only: it turns off the SSRF defence.',
  );
