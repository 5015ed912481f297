/**
 * Structured logging with redaction by construction: any field whose name looks like a credential
 * is replaced before the line is written, whatever the caller passed, and so is any credential in
 * a string (a URL's `code`/`state`/token parameters, tokens themselves: `redactText`).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Security-relevant events (login, consent, token issued/refreshed/revoked, reuse detected). */
  audit(event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const SENSITIVE = /token|secret|password|passwd|code|verifier|assertion|authorization|cookie|csrf|private|jwt|key$|nonce|credential|bearer|(^|_)state$/i;
/** Field names that match the pattern above but carry no secret. */
const SAFE = new Set(['error_code', 'status_code', 'token_type', 'grant_type', 'token_endpoint_auth_method', 'kid']);

/**
 * Credentials inside text (HARD-3): a URL's query or fragment parameter that carries one (`?code=`,
 * `&state=`, `#access_token=`…), also percent-encoded inside another URL; our opaque tokens by their
 * prefix; JWTs; `Bearer` values. Applied to every string logged, so an error message quoting a
 * Location header cannot leak the code in it, whoever logs it.
 */
const CREDENTIAL_PARAMETER =
  /((?:[?&#;]|%3F|%26|%23)(?:code|state|nonce|(?:access_|refresh_|id_|subject_|actor_|device_|user_)?token|id_token_hint|client_secret|code_verifier|client_assertion|assertion|password|secret|session_state|ticket|api_?key|key|sig|signature)(?:=|%3D))(?:[^&#\s"'<>%]|%(?!26|23|3F)[0-9A-F]{2})*/gi;
// `.` included: a refresh token is `pcr_<grant id>.<family tag>.<secret>`, and all of it is the credential.
const OPAQUE_TOKEN = /\b(pc[a-z]_)[A-Za-z0-9_.-]{16,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer|Basic|DPoP)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

/**
 * What every credential pattern above needs to match at all: a parameter delimiter (or `%`), a token
 * prefix, a JWT's `eyJ`, a scheme name. Most strings logged (ids, event names, scopes) contain none,
 * and one failed test is far cheaper than four full replaces: the audit line of every token request
 * paid those (bench/README.md). A superset of the patterns' triggers, so it only ever skips text
 * they would leave unchanged.
 */
const MAY_HOLD_CREDENTIAL = /[?&#;%]|pc[a-z]_|eyJ|(?:bearer|basic|dpop)\s/i;

export function redactText(text: string): string {
  return MAY_HOLD_CREDENTIAL.test(text) ? redactTextFully(text) : text;
}

/** The four replaces, without the quick check: exported for the test that pins the check to them. */
export function redactTextFully(text: string): string {
  return text
    .replace(CREDENTIAL_PARAMETER, '$1[redacted]')
    .replace(OPAQUE_TOKEN, '$1[redacted]')
    .replace(JWT, '[redacted-jwt]')
    .replace(BEARER, '$1 [redacted]');
}

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  // Deeper than any field we log on purpose: not walked, so not written either.
  if (depth > 4) return '[nested]';
  if (value instanceof Error) return { name: value.name, message: redactText(value.message), stack: value.stack === undefined ? undefined : redactText(value.stack) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SENSITIVE.test(k) && !SAFE.has(k) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLoggerOptions {
  level?: LogLevel;
  /** `json` (default): one JSON object a line. `pretty`: for a person at a terminal (LOG_FORMAT=pretty). */
  format?: 'json' | 'pretty';
  write?: (line: string) => void;
  now?: () => number;
  base?: LogFields;
}

/** `12:00:00.123 WARN  message key=value key="two words"`: the same redacted record, in columns. */
function prettyLine(time: Date, level: LogLevel, msg: string, record: LogFields): string {
  const fields = Object.entries(record)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)}`);
  return [time.toISOString().slice(11, 23), level.toUpperCase().padEnd(5), msg, ...fields].join(' ');
}

export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const now = options.now ?? Date.now;
  const base = options.base ?? {};
  const emit = (level: LogLevel, msg: string, fields: LogFields | undefined, extra?: LogFields): void => {
    if (ORDER[level] < min) return;
    const record = redact({ ...base, ...fields, ...extra }) as LogFields;
    if (options.format === 'pretty') write(prettyLine(new Date(now()), level, redactText(msg), record));
    else write(JSON.stringify({ time: new Date(now()).toISOString(), level, msg: redactText(msg), ...record }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    audit: (event, f) => emit('info', event, f, { audit: true }),
    child: (fields) => createJsonLogger({ ...options, base: { ...base, ...fields } }),
  };
}

/** Collects records in memory: for tests that assert what was (and was not) logged. */
export function createMemoryLogger(): Logger & { lines: string[]; records: () => LogFields[] } {
  const lines: string[] = [];
  const logger = createJsonLogger({ level: 'debug', write: (l) => lines.push(l) });
  return Object.assign(logger, { lines, records: () => lines.map((l) => JSON.parse(l) as LogFields) });
}

export const silentLogger: Logger = createJsonLogger({ level: 'error', write: () => {} });
