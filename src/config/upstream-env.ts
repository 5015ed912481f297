import { envBool, envInt, type ApplyEnv } from './env-values.ts';
import type { ConfigInput } from './schema.ts';

type UpstreamInput = NonNullable<ConfigInput['upstream']>;

const upstream = (c: ConfigInput): UpstreamInput => (c.upstream ??= {});

/**
 * Seed 2's `REMOTE_MCP_SERVER_URL` names the server's origin (`http://localhost:8000`) and the worker
 * posts to `<it>/mcp`; a URL that already ends in `/mcp` is taken as it is.
 */
export function seedRemoteServerUrl(value: string): string {
  const trimmed = value.trim().replace(/\/+$/, '');
  return trimmed.endsWith('/mcp') ? trimmed : `${trimmed}/mcp`;
}

/**
 * Environment variables of the `upstream` setting (gateway mode). Seed 2's names come before their
 * PORTCULLIS_ twins so that the twin wins when both are set (variables are applied in this order).
 */
export const UPSTREAM_ENV: Record<string, ApplyEnv> = {
  REMOTE_MCP_SERVER_URL: (c, v) => void (upstream(c).url = seedRemoteServerUrl(v)),
  PORTCULLIS_UPSTREAM_URL: (c, v) => void (upstream(c).url = v.trim()),
  PORTCULLIS_UPSTREAM_COMMAND: (c, v) => void (upstream(c).command = v),
  REMOTE_MCP_AUTH_TOKEN: (c, v) => void (upstream(c).bearerToken = v),
  PORTCULLIS_UPSTREAM_TOKEN: (c, v) => void (upstream(c).bearerToken = v),
  PORTCULLIS_UPSTREAM_AUTHORIZATION: (c, v) => void (upstream(c).secretHeaders = { ...upstream(c).secretHeaders, Authorization: v }),
  PORTCULLIS_UPSTREAM_IDENTITY_HEADERS: (c, v, n) => {
    const u = upstream(c);
    if (!envBool(n, v)) u.identityHeaders = false;
    else if (u.identityHeaders === false) delete u.identityHeaders;
  },
  PORTCULLIS_UPSTREAM_REQUIRED_SCOPES: (c, v) => void (upstream(c).requiredScopes = v.split(/\s+/).filter(Boolean)),
  PORTCULLIS_UPSTREAM_PASS_ENV: (c, v) => void (upstream(c).passEnv = v.split(',').map((s) => s.trim()).filter(Boolean)),
  PORTCULLIS_UPSTREAM_TIMEOUT: (c, v, n) => void (upstream(c).timeout = envInt(n, v)),
  PORTCULLIS_UPSTREAM_STREAM_IDLE_TIMEOUT: (c, v, n) => void (upstream(c).streamIdleTimeout = envInt(n, v)),
  PORTCULLIS_UPSTREAM_DANGEROUSLY_ALLOW_INSECURE_HTTP: (c, v, n) => void (upstream(c).dangerouslyAllowInsecureHttp = envBool(n, v)),
};
