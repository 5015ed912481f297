import { envBool, type ApplyEnv } from './env-values.ts';
import type { ConfigInput } from './schema.ts';

/** Environment variables of the client ID metadata document settings. */


export const CLIENT_METADATA_DOCUMENTS_ENV: Record<string, ApplyEnv> = {
  PORTCULLIS_CIMD: (c, v, n) => void (c.clientIdMetadataDocuments = { ...c.clientIdMetadataDocuments, enabled: envBool(n, v) }),
  PORTCULLIS_CIMD_ALLOWED_HOSTS: (c, v) =>
    void (c.clientIdMetadataDocuments = {
      ...c.clientIdMetadataDocuments,
      allowedHosts: v.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
    }),
  PORTCULLIS_DANGEROUSLY_ALLOW_PRIVATE_NETWORK_FETCHES: (c, v, n) => void (c.dangerouslyAllowPrivateNetworkFetches = envBool(n, v)),
};
