import type { Logger, LogFields } from '../log/logger.ts';
import type { Metrics } from './metrics.ts';

/**
 * The security counters follow the audit events, which are already written at exactly the moments
 * they count (design.md, Operations): a logger that counts them as it writes them keeps the two in
 * step without a second call beside every audit line.
 */
const COUNTED: Record<string, (metrics: Metrics, fields: LogFields) => void> = {
  'token.issued': (m, f) => m.tokensIssued.inc({ grant_type: String(f.grant_type ?? 'unknown') }),
  'token.refreshed': (m) => m.tokensIssued.inc({ grant_type: 'refresh_token' }),
  'refresh.reuse_detected': (m) => m.refreshReuse.inc(),
  'login.failed': (m, f) => m.loginFailures.inc({ reason: String(f.reason ?? 'unknown') }),
  'client.registered': (m, f) => m.registrations.inc({ reused: String(f.reused === true) }),
};

export function countingAudits(logger: Logger, metrics: Metrics): Logger {
  return {
    debug: (m, f) => logger.debug(m, f),
    info: (m, f) => logger.info(m, f),
    warn: (m, f) => logger.warn(m, f),
    error: (m, f) => logger.error(m, f),
    audit(event, fields = {}) {
      COUNTED[event]?.(metrics, fields);
      logger.audit(event, fields);
    },
    child: (fields) => countingAudits(logger.child(fields), metrics),
  };
}
