import type { Capabilities } from './authorization/capabilities.ts';
import type { GrantStatus } from './authorization/grant-status.ts';
import type { TrustedIssuer } from './authorization/trusted-issuers.ts';
import type { ResolvedConfig } from './config/resolve.ts';
import type { ClientFetches } from './http/client-fetches.ts';
import type { IdentityProvider } from './identity/providers/types.ts';
import type { KeyStore } from './keys/keystore.ts';
import type { ServerSecrets } from './keys/server-secrets.ts';
import type { DpopChecker } from './resource/dpop.ts';
import type { Logger } from './log/logger.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { Storage } from './storage/types.ts';
import type { Clock } from './util/clock.ts';
import type { RandomBytes } from './util/crypto.ts';

export type RuntimeKind = 'node' | 'workers';

/**
 * Everything a handler needs, built once at start by createPortcullis (src/portcullis.ts), which
 * owns it: per-app services live here, never in module-level registries keyed by the app, so
 * `Portcullis.close()` reaches everything. Clock, randomness and fetch are injected.
 */
export interface AppContext {
  readonly config: ResolvedConfig;
  readonly capabilities: Capabilities;
  readonly storage: Storage;
  readonly keys: KeyStore;
  readonly grants: GrantStatus;
  readonly clock: Clock;
  /**
   * When this server process started (clock time): refresh retries after a crash count from here
   * (HARD-9). Undefined on Workers, where isolates start all the time and a start says nothing about
   * a crash: a request that died with its isolate is a lost answer, which the grace period covers.
   */
  readonly startedAt: number | undefined;
  /**
   * Where this app runs. `node`: one long-lived process, with memory shared by its requests and the
   * whole network reachable. `workers`: Cloudflare Workers, many short-lived isolates with no memory
   * in common, no private network and no socket to pin (src/runtime/workers.ts).
   */
  readonly runtime: RuntimeKind;
  readonly random: RandomBytes;
  readonly fetch: typeof fetch;
  readonly logger: Logger;
  /** The configured identity provider (`identityProvider.kind`), with its discovery and JWKS caches. */
  readonly identity: IdentityProvider;
  /** The one fetch policy for URLs named by clients (metadata documents, `jwks_uri`): its caches and limits. */
  readonly clientFetches: ClientFetches;
  /** The trusted enterprise identity providers by issuer (ID-JAG), with their key caches. */
  readonly trustedIssuers: ReadonlyMap<string, TrustedIssuer>;
  /** The server's secrets kept in storage, read once. */
  readonly secrets: ServerSecrets;
  /** DPoP proof checks (RFC 9449) for the token endpoint and the MCP endpoint: shared replay store and nonces. */
  readonly dpop: DpopChecker;
  /** Prometheus metrics when `metrics.enabled`; absent otherwise, so nothing is counted or timed. */
  readonly metrics?: Metrics;
}
