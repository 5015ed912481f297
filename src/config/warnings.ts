import type { ResolvedConfig } from './resolve.ts';
import { LOOPBACK_HOSTS } from '../util/loopback.ts';

/**
 * Settings that start but are probably not what the operator meant: printed at start (a warning log
 * line each) and by `portcullis config check`. Each names the variables to set.
 */
export function configWarnings(config: Pick<ResolvedConfig, 'host' | 'publicUrl' | 'issuer' | 'metrics'>): string[] {
  const warnings: string[] = [];
  if (!config.publicUrl && !LOOPBACK_HOSTS.has(config.host)) {
    warnings.push(
      `HOST=${config.host} accepts connections from other machines, but PORTCULLIS_PUBLIC_URL is not set: clients there would be sent to ${config.issuer}, which names this machine only to itself. Set PORTCULLIS_PUBLIC_URL to the URL they reach this server at.`,
    );
  }
  if (config.metrics.enabled && config.metrics.token === undefined && config.metrics.port === undefined) {
    warnings.push(
      'PORTCULLIS_METRICS is on without PORTCULLIS_METRICS_TOKEN or PORTCULLIS_METRICS_PORT: anyone who can reach this server can read /metrics (client counts, traffic). Set one of them.',
    );
  }
  return warnings;
}
