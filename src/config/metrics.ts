import { z } from 'zod';
import { envBool, envInt, type ApplyEnv } from './env-values.ts';
import type { ConfigInput } from './schema.ts';

/** The `metrics` setting: Prometheus text at `/metrics` (off by default), and who may read it. */
export const metricsSchema = z
  .object({
    enabled: z.boolean().default(false),
    token: z.string().min(16, 'use at least 16 random characters, e.g. `openssl rand -hex 16`').optional(),
    port: z.number().int().min(0).max(65535).optional(),
    host: z.string().default('127.0.0.1'),
  })
  .default({ enabled: false, host: '127.0.0.1' })
  .describe(
    'PORTCULLIS_METRICS (`on`/`off`), PORTCULLIS_METRICS_TOKEN, PORTCULLIS_METRICS_PORT, PORTCULLIS_METRICS_HOST. Prometheus metrics at `/metrics` (requests by route and status, tokens issued by grant type, refresh-token reuse, login failures, registrations, rate-limited requests, gateway upstream latency and errors, storage latency). Off by default. With `token`, a scrape must send `Authorization: Bearer <token>`. With `port`, `/metrics` is served on its own listener at `host:port` (default host 127.0.0.1) and not on the main one, so it can stay inside the machine or a private network. On the main listener without a token anyone who reaches the server can read them: start warns.',
  );

export type MetricsSettings = z.output<typeof metricsSchema>;

type MetricsInput = NonNullable<ConfigInput['metrics']>;
const metrics = (c: ConfigInput): MetricsInput => (c.metrics ??= {});

export const METRICS_ENV: Record<string, ApplyEnv> = {
  PORTCULLIS_METRICS: (c, v, n) => void (metrics(c).enabled = envBool(n, v)),
  PORTCULLIS_METRICS_TOKEN: (c, v) => void (metrics(c).token = v.trim()),
  PORTCULLIS_METRICS_PORT: (c, v, n) => void (metrics(c).port = envInt(n, v)),
  PORTCULLIS_METRICS_HOST: (c, v) => void (metrics(c).host = v.trim()),
};
