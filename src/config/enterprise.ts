import { z } from 'zod';
import type { ConfigInput, ParsedConfig } from './schema.ts';
import { LOOPBACK_HOSTS } from '../util/loopback.ts';

/**
 * The `trustedIdentityProviders` setting: enterprise identity providers whose Identity Assertion JWT
 * Authorization Grants (ID-JAG) this server accepts at the token endpoint (MCP enterprise-managed
 * authorization, EMA-01..EMA-11). Each is named by its issuer and the keys it signs with: a JWKS URL
 * (fetched over https, cached, refetched when an unknown key id appears) or an inline JWK Set.
 * With none configured, the jwt-bearer grant is neither advertised nor accepted.
 */
const trustedIdentityProviderSchema = z.object({
  issuer: z.url(),
  jwksUri: z.url().optional(),
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
  /** Shown nowhere yet; for the operator's own notes and log lines. */
  name: z.string().min(1).max(80).optional(),
});

export const trustedIdentityProvidersSchema = z
  .array(trustedIdentityProviderSchema)
  .default([])
  .describe(
    'PORTCULLIS_TRUSTED_IDP_ISSUER, PORTCULLIS_TRUSTED_IDP_JWKS_URL (one provider; list several in the config file as `[{ "issuer", "jwksUri" | "jwks" }]`). ' +
      'Enterprise identity providers trusted to issue ID-JAGs (MCP enterprise-managed authorization): a client presents one with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and gets an access token for the user the provider names, limited to the ID-JAG\'s resource and scopes. ' +
      'Each provider needs its issuer and either `jwksUri` (https) or an inline `jwks`. Users are linked by the provider\'s issuer and subject. When none is set the grant is off.',
  );

export type TrustedIdentityProvider = z.output<typeof trustedIdentityProviderSchema>;

/** What is wrong with the trusted providers, as `setting: message`, or null. Called by resolveConfig. */
export function trustedIdentityProvidersProblem(config: ParsedConfig): string | null {
  const seen = new Set<string>();
  for (const [i, idp] of config.trustedIdentityProviders.entries()) {
    const at = `trustedIdentityProviders[${i}]`;
    if (seen.has(idp.issuer)) return `${at}.issuer: ${idp.issuer} is listed twice`;
    seen.add(idp.issuer);
    if ((idp.jwksUri === undefined) === (idp.jwks === undefined)) return `${at}: give exactly one of jwksUri and jwks`;
    // EMA-04: keys come over authenticated TLS; plain http only on this machine (tests, local IdPs).
    for (const [field, value] of [['issuer', idp.issuer], ['jwksUri', idp.jwksUri]] as const) {
      if (value === undefined) continue;
      const url = new URL(value);
      if (url.protocol === 'https:') continue;
      if (url.protocol === 'http:' && (LOOPBACK_HOSTS.has(url.hostname) || config.dangerouslyAllowInsecureHttp)) continue;
      return `${at}.${field}: ${value} must be an https URL`;
    }
    for (const key of idp.jwks?.keys ?? []) {
      if ('d' in key || 'k' in key) return `${at}.jwks: give public keys only (a key has a private or symmetric part)`;
    }
  }
  return null;
}

type Apply = (input: ConfigInput, value: string, name: string) => void;

/** The first provider, for the environment variables, which configure one. */
const first = (c: ConfigInput): Partial<TrustedIdentityProvider> => {
  const list = (c.trustedIdentityProviders ??= []) as Partial<TrustedIdentityProvider>[];
  return (list[0] ??= {});
};

export const ENTERPRISE_ENV: Record<string, Apply> = {
  PORTCULLIS_TRUSTED_IDP_ISSUER: (c, v) => void (first(c).issuer = v),
  PORTCULLIS_TRUSTED_IDP_JWKS_URL: (c, v) => void (first(c).jwksUri = v),
};
