import { ConfigError } from './resolve.ts';
import type { ConfigInput } from './schema.ts';

/** Environment variables of the client ID metadata document settings. */
type Apply = (input: ConfigInput, value: string, name: string) => void;

const bool = (name: string, v: string): boolean => {
  if (/^(1|true|on|yes)$/i.test(v)) return true;
  if (/^(0|false|off|no)$/i.test(v)) return false;
  throw new ConfigError(`Invalid setting ${name}: expected true or false, got "${v}"`);
};

export const CLIENT_METADATA_DOCUMENTS_ENV: Record<string, Apply> = {
  PORTCULLIS_CIMD: (c, v, n) => void (c.clientIdMetadataDocuments = { ...c.clientIdMetadataDocuments, enabled: bool(n, v) }),
  PORTCULLIS_CIMD_ALLOWED_HOSTS: (c, v) =>
    void (c.clientIdMetadataDocuments = {
      ...c.clientIdMetadataDocuments,
      allowedHosts: v.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
    }),
  PORTCULLIS_DANGEROUSLY_ALLOW_PRIVATE_NETWORK_FETCHES: (c, v, n) => void (c.dangerouslyAllowPrivateNetworkFetches = bool(n, v)),
};
