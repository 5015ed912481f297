import { Kysely, sql, type CompiledQuery, type QueryResult, type Transaction } from 'kysely';
import { Migrator } from 'kysely/migration';
import { migrationProvider } from '../migrations/index.ts';
import type {
  AuthorizationCodeRecord,
  AuthorizationRequestRecord,
  ClientCap,
  ClientRecord,
  ClientSource,
  FailureCounter,
  GrantRecord,
  JwkSet,
  RefreshTokenRecord,
  RotateRefreshInput,
  RotateResult,
  SigningKeyRecord,
  Storage,
  TaskRecord,
  TokenEndpointAuthMethod,
  UserRecord,
} from '../types.ts';
import type { KeyRing } from '../../keys/key-encryption.ts';
import { compileOnce } from './compile-once.ts';
import { groupCommit } from './group-commit.ts';
import { rewrapSealedSecrets, settingPurpose, signingKeyPurpose } from './sealed-secrets.ts';
import type { Database } from './tables.ts';

type Db = Kysely<Database> | Transaction<Database>;
type Row<T extends keyof Database> = Database[T];

const words = (s: string): string[] => (s ? s.split(' ') : []);
export const join = (list: string[]): string => list.join(' ');
/** PostgreSQL returns bigint columns as strings; normalise once here. */
const num = (v: number | string | bigint): number => Number(v);
const numOrNull = (v: number | string | bigint | null): number | null => (v === null ? null : Number(v));

export const toUser = (r: Row<'users'>): UserRecord => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  isAdmin: num(r.is_admin) === 1,
  createdAt: num(r.created_at),
});

const toClient = (r: Row<'clients'>): ClientRecord => ({
  clientId: r.client_id,
  secretHash: r.secret_hash,
  clientName: r.client_name,
  redirectUris: JSON.parse(r.redirect_uris) as string[],
  grantTypes: words(r.grant_types),
  responseTypes: words(r.response_types),
  tokenEndpointAuthMethod: r.token_endpoint_auth_method as TokenEndpointAuthMethod,
  applicationType: r.application_type === 'web' ? 'web' : 'native',
  scope: r.scope,
  clientUri: r.client_uri,
  logoUri: r.logo_uri,
  metadataHash: r.metadata_hash,
  source: r.source as ClientSource,
  createdAt: num(r.created_at),
  // Only clients that have keys carry the fields, so records of every other client stay as they were.
  ...(r.jwks !== null ? { jwks: JSON.parse(r.jwks) as JwkSet } : {}),
  ...(r.jwks_uri !== null ? { jwksUri: r.jwks_uri } : {}),
  ...(r.last_grant_at !== null ? { lastGrantAt: num(r.last_grant_at) } : {}),
  ...(r.dpop_bound_access_tokens !== null && num(r.dpop_bound_access_tokens) === 1 ? { dpopBoundAccessTokens: true } : {}),
});

export const toClientRow = (c: ClientRecord): Row<'clients'> => ({
  client_id: c.clientId,
  secret_hash: c.secretHash,
  client_name: c.clientName,
  redirect_uris: JSON.stringify(c.redirectUris),
  grant_types: join(c.grantTypes),
  response_types: join(c.responseTypes),
  token_endpoint_auth_method: c.tokenEndpointAuthMethod,
  application_type: c.applicationType,
  scope: c.scope,
  client_uri: c.clientUri,
  logo_uri: c.logoUri,
  metadata_hash: c.metadataHash,
  source: c.source,
  created_at: c.createdAt,
  jwks: c.jwks ? JSON.stringify(c.jwks) : null,
  jwks_uri: c.jwksUri ?? null,
  last_grant_at: c.lastGrantAt ?? null,
  dpop_bound_access_tokens: c.dpopBoundAccessTokens ? 1 : null,
});

const toGrantRow = (g: GrantRecord): Row<'grants'> => ({
  id: g.id,
  user_id: g.userId,
  client_id: g.clientId,
  scopes: join(g.scopes),
  resource: g.resource,
  created_at: g.createdAt,
  expires_at: g.expiresAt,
  revoked_at: g.revokedAt,
  dpop_jkt: g.dpopJkt ?? null,
});

const toRequest = (r: Row<'authorization_requests'>): AuthorizationRequestRecord => ({
  id: r.id,
  clientId: r.client_id,
  redirectUri: r.redirect_uri,
  state: r.state,
  scopes: words(r.scopes),
  resource: r.resource,
  codeChallenge: r.code_challenge,
  nonce: r.nonce,
  prompt: r.prompt,
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  // Only bound requests, codes and grants carry the field, so every other record stays as it was.
  ...(r.dpop_jkt !== null ? { dpopJkt: r.dpop_jkt } : {}),
});

export const toCode = (r: Row<'authorization_codes'>): AuthorizationCodeRecord => ({
  codeHash: r.code_hash,
  grantId: r.grant_id,
  clientId: r.client_id,
  userId: r.user_id,
  redirectUri: r.redirect_uri,
  codeChallenge: r.code_challenge,
  scopes: words(r.scopes),
  resource: r.resource,
  nonce: r.nonce,
  authTime: num(r.auth_time),
  issueRefreshToken: num(r.issue_refresh_token) === 1,
  expiresAt: num(r.expires_at),
  ...(r.dpop_jkt !== null ? { dpopJkt: r.dpop_jkt } : {}),
});

const toGrant = (r: Row<'grants'>): GrantRecord => ({
  id: r.id,
  userId: r.user_id,
  clientId: r.client_id,
  scopes: words(r.scopes),
  resource: r.resource,
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  revokedAt: numOrNull(r.revoked_at),
  ...(r.dpop_jkt !== null ? { dpopJkt: r.dpop_jkt } : {}),
});

const toRefresh = (r: Row<'refresh_tokens'>): RefreshTokenRecord => ({
  tokenHash: r.token_hash,
  grantId: r.grant_id,
  clientId: r.client_id,
  scopes: words(r.scopes),
  issuedAt: num(r.issued_at),
  expiresAt: num(r.expires_at),
  rotatedAt: numOrNull(r.rotated_at),
  successorHash: r.successor_hash,
});

const toTask = (r: Row<'tasks'>): TaskRecord => ({
  id: r.id,
  userId: r.user_id,
  title: r.title,
  done: num(r.done) === 1,
  createdAt: num(r.created_at),
  completedAt: numOrNull(r.completed_at),
});

const toKey = (r: Row<'signing_keys'>): SigningKeyRecord => ({
  kid: r.kid,
  alg: r.alg,
  privateJwk: r.private_jwk,
  publicJwk: r.public_jwk,
  createdAt: num(r.created_at),
  retiredAt: numOrNull(r.retired_at),
  publishUntil: numOrNull(r.publish_until),
});

/** A key's row, its private JWK already sealed. */
const keyRow = (k: SigningKeyRecord, sealed: string): Row<'signing_keys'> => ({
  kid: k.kid,
  alg: k.alg,
  private_jwk: sealed,
  public_jwk: k.publicJwk,
  created_at: k.createdAt,
  retired_at: k.retiredAt,
  publish_until: k.publishUntil,
});

const toFailureCounter = (r: Row<'failures'> | undefined, now: number): FailureCounter =>
  r ? { count: num(r.count), lockedUntil: num(r.locked_until) > now ? num(r.locked_until) : 0 } : { count: 0, lockedUntil: 0 };

export const grantIsLive = (g: GrantRecord, now: number): boolean => g.revokedAt === null && g.expiresAt > now;

/** The counter of self-registered clients (`counters` row), kept by every statement that adds or removes one. */
export const DCR_COUNTER = 'clients.dcr';
const DEFAULT_BATCH = 500;
/**
 * The sweep's batches adapt so one statement takes about `TARGET_BATCH_MS`: random keys (token hashes)
 * make each deleted row dirty its own index pages, so the cost per row depends on the disk and on how
 * busy the machine is. Between `MIN_BATCH` and `MAX_BATCH` rows.
 */
const TARGET_BATCH_MS = 10;
const MIN_BATCH = 50;
const MAX_BATCH = 2000;
/** One macrotask turn: pending I/O and timers run before the next batch. Works on every runtime. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Thrown inside a transaction to roll it back when a self-registered client finds no room. */
class NoRoom extends Error {}

async function bumpClientCounter(db: Db, by: number): Promise<number> {
  const r = await db
    .updateTable('counters')
    .set({ value: sql<number>`value + ${by}` })
    .where('name', '=', DCR_COUNTER)
    .returning('value')
    .executeTakeFirstOrThrow();
  return num(r.value);
}

/** Deletes clients and everything issued to them; keeps the counter of self-registered clients true. */
async function deleteClients(db: Db, ids: readonly string[], where?: (q: any) => any): Promise<number> {
  if (ids.length === 0) return 0;
  let q = db.deleteFrom('clients').where('client_id', 'in', ids);
  if (where) q = where(q);
  const gone = await q.returning(['client_id', 'source']).execute();
  if (gone.length === 0) return 0;
  const goneIds = gone.map((r) => r.client_id);
  // Through the client's grants (both indexed), never a scan of the refresh tokens: eviction and
  // pruning run this often, on stores with millions of tokens.
  await db
    .deleteFrom('refresh_tokens')
    .where('grant_id', 'in', db.selectFrom('grants').select('id').where('client_id', 'in', goneIds))
    .execute();
  await db.deleteFrom('grants').where('client_id', 'in', goneIds).execute();
  await db.deleteFrom('authorization_codes').where('client_id', 'in', goneIds).execute();
  await db.deleteFrom('authorization_requests').where('client_id', 'in', goneIds).execute();
  await db.deleteFrom('consents').where('client_id', 'in', goneIds).execute();
  const dcr = gone.filter((r) => r.source === 'dcr').length;
  if (dcr) await bumpClientCounter(db, -dcr);
  return gone.length;
}

/** The self-registered client that makes room at the cap: the oldest that never completed a grant and is old enough. */
export const evictionCandidate = (db: Db, cap: ClientCap) =>
  db
    .selectFrom('clients')
    .select('client_id')
    .where('source', '=', 'dcr')
    .where('last_grant_at', 'is', null)
    .where('created_at', '<', cap.evictUnusedCreatedBefore)
    .orderBy('created_at')
    .limit(1);

/**
 * At the cap: removes the oldest self-registered client that never completed a grant and is older
 * than `cap.evictUnusedCreatedBefore`. A concurrent registration may take the same one: try the next.
 */
async function evictOneUnused(db: Db, cap: ClientCap): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const victim = await evictionCandidate(db, cap).executeTakeFirst();
    if (!victim) return false;
    const removed = await deleteClients(db, [victim.client_id], (q) => q.where('last_grant_at', 'is', null));
    if (removed) return true;
  }
  return false;
}

/** A client that completed a grant is in use: never pruned as a flood's leftover (HARD-7). */
async function markClientUsed(db: Db, clientId: string, now: number): Promise<void> {
  await db.updateTable('clients').set({ last_grant_at: now }).where('client_id', '=', clientId).execute();
}

/**
 * Deletes rows in batches until a batch comes back short, pausing between batches, so a sweep of a
 * million rows is many short statements rather than one that holds the process (HARD-8). A fixed
 * `batchSize` is used as given; otherwise the size adapts to `TARGET_BATCH_MS` per statement.
 */
async function inBatches(deleteBatch: (limit: number) => Promise<number>, batchSize: number | undefined, pause: () => Promise<void>): Promise<number> {
  let size = batchSize ?? DEFAULT_BATCH;
  let total = 0;
  for (;;) {
    const started = performance.now();
    const n = await deleteBatch(size);
    total += n;
    if (n < size) return total;
    if (batchSize === undefined) {
      const ms = performance.now() - started;
      if (ms > TARGET_BATCH_MS) size = Math.max(MIN_BATCH, Math.floor(size / 2));
      else if (ms < TARGET_BATCH_MS / 4) size = Math.min(MAX_BATCH, size * 2);
    }
    await pause();
  }
}

/** Revocation as statements: the grant is marked revoked (the first one's count says whether it was live) and its refresh tokens go. */
const revokeGrantQueries = (db: Db, id: string, now: number): CompiledQuery[] => [
  db.updateTable('grants').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).compile(),
  db.deleteFrom('refresh_tokens').where('grant_id', '=', id).compile(),
];

/** How many rows the statement changed. */
export const changed = (r: QueryResult<unknown> | undefined): number => Number(r?.numAffectedRows ?? 0);

async function revokeGrant(db: Db, id: string, now: number): Promise<boolean> {
  const [revoked] = await runInOrder(db, revokeGrantQueries(db, id, now));
  return changed(revoked) > 0;
}

async function runInOrder(db: Db, queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
  const results: QueryResult<unknown>[] = [];
  for (const q of queries) results.push(await db.executeQuery(q));
  return results;
}

/** Removing a user: everything they own, then the user (the last statement's count says whether they existed). */
const removeUserQueries = (db: Db, id: string): CompiledQuery[] => [
  db.deleteFrom('refresh_tokens').where('grant_id', 'in', db.selectFrom('grants').select('id').where('user_id', '=', id)).compile(),
  ...(['grants', 'authorization_codes', 'consents', 'login_sessions', 'tasks', 'external_identities', 'user_groups'] as const).map((table) => db.deleteFrom(table).where('user_id', '=', id).compile()),
  db.deleteFrom('users').where('id', '=', id).compile(),
];

/** A grant is stored with the client's use marked (HARD-7). */
const createGrantQueries = (db: Db, g: GrantRecord): CompiledQuery[] => [
  db.insertInto('grants').values(toGrantRow(g)).compile(),
  db.updateTable('clients').set({ last_grant_at: g.createdAt }).where('client_id', '=', g.clientId).compile(),
];

/** The inputs that decide whether a spent token presented again is a retry (HARD-9). */
export type RetryInput = Pick<RotateRefreshInput, 'now' | 'gracePeriodMs' | 'startedAt' | 'restartWindowMs'>;

/**
 * HARD-9: is a spent token, whose successor has never been used, presented again by the client that
 * spent it (a lost response) rather than by a thief? Within the grace period of its rotation, yes.
 * A crash can lose the response, and a restart can take longer than the grace period: the grace
 * period does not run while the server is down, so a token rotated shortly (at most
 * `restartWindowMs`) before this process started is a retry for `gracePeriodMs` after the start.
 * Anything else is reuse. `gracePeriodMs: 0` (strict reuse detection) extends nothing across a restart.
 *
 * As the half-open ranges `[from, until)` of rotation times that are a retry, so that the same rule
 * can also be a condition of a SQL statement (D1 decides reuse inside its batch).
 */
export function honestRetryRanges(input: RetryInput): [from: number, until: number][] {
  const { now, gracePeriodMs, startedAt, restartWindowMs = 0 } = input;
  const ranges: [number, number][] = [[now - gracePeriodMs, Number.MAX_SAFE_INTEGER]];
  if (gracePeriodMs > 0 && startedAt !== undefined && now - startedAt <= gracePeriodMs) ranges.push([startedAt - restartWindowMs, startedAt]);
  return ranges;
}

export function isHonestRetry(rotatedAt: number, input: RetryInput): boolean {
  return honestRetryRanges(input).some(([from, until]) => rotatedAt >= from && rotatedAt < until);
}

/** Brings the schema to the latest version. */
export async function migrate(db: Kysely<Database>, schema?: string): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
}

/** The grant a redeemed code creates. */
export const grantOfCode = (code: AuthorizationCodeRecord, now: number, expiresAt: number, dpopJkt?: string | null): GrantRecord => ({
  id: code.grantId,
  userId: code.userId,
  clientId: code.clientId,
  scopes: code.scopes,
  resource: code.resource,
  createdAt: now,
  expiresAt,
  revokedAt: null,
  ...(dpopJkt ? { dpopJkt } : {}),
});

/** A row of `refreshWithGrant`: the token's columns and its grant's, prefixed `g_`. */
type TokenWithGrantRow = Row<'refresh_tokens'> & { [K in keyof Row<'grants'> as K extends 'id' ? never : `g_${K}`]: Row<'grants'>[K] };

export const toTokenWithGrant = (r: TokenWithGrantRow): { token: RefreshTokenRecord; grant: GrantRecord } => ({
  token: toRefresh(r),
  grant: toGrant({
    id: r.grant_id,
    user_id: r.g_user_id,
    client_id: r.g_client_id,
    scopes: r.g_scopes,
    resource: r.g_resource,
    created_at: r.g_created_at,
    expires_at: r.g_expires_at,
    revoked_at: r.g_revoked_at,
    dpop_jkt: r.g_dpop_jkt,
  }),
});

/** The token endpoint's queries, compiled once instead of on every call (compile-once.ts); D1's batches use them too. */
export function hotQueries(db: Kysely<Database>) {
  return {
    client: compileOnce((clientId: string) => db.selectFrom('clients').selectAll().where('client_id', '=', clientId)),
    grant: compileOnce((id: string) => db.selectFrom('grants').selectAll().where('id', '=', id)),
    refreshWithGrant: compileOnce((tokenHash: string) =>
      db
        .selectFrom('refresh_tokens as t')
        .innerJoin('grants as g', 'g.id', 't.grant_id')
        .selectAll('t')
        .select(['g.user_id as g_user_id', 'g.client_id as g_client_id', 'g.scopes as g_scopes', 'g.resource as g_resource'])
        .select(['g.created_at as g_created_at', 'g.expires_at as g_expires_at', 'g.revoked_at as g_revoked_at', 'g.dpop_jkt as g_dpop_jkt'])
        .where('t.token_hash', '=', tokenHash),
    ),
    markRotated: compileOnce((tokenHash: string, successorHash: string, now: number) =>
      db
        .updateTable('refresh_tokens')
        .set({ rotated_at: now, successor_hash: successorHash })
        .where('token_hash', '=', tokenHash)
        .where('rotated_at', 'is', null)
        .where('expires_at', '>', now)
        // The grant must be live when its token is spent: checked here, in the same atomic statement,
        // so a rotation that returns the grant the caller already read needs no second read of it.
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('grants as g')
              .select('g.id')
              .whereRef('g.id', '=', 'refresh_tokens.grant_id')
              .where('g.revoked_at', 'is', null)
              .where('g.expires_at', '>', now),
          ),
        )
        .returningAll(),
    ),
    // One upsert per rate-limited request (every token request among them): compiled once. In
    // `do update`, both columns' expressions read the row as it was before this statement.
    rateLimitHit: compileOnce((key: string, now: number, resetIfNew: number) =>
      db
        .insertInto('rate_limits')
        .values({ key, count: 1, reset_at: resetIfNew })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            count: sql<number>`case when rate_limits.reset_at <= ${now} then 1 else rate_limits.count + 1 end`,
            reset_at: sql<number>`case when rate_limits.reset_at <= ${now} then ${resetIfNew} else rate_limits.reset_at end`,
          }),
        )
        .returning(['count', 'reset_at']),
    ),
    failurePair: compileOnce((a: string, b: string) => db.selectFrom('failures').selectAll().where('key', 'in', [a, b])),
    // HARD-8: a grant keeps its live token and the one just spent (retries); older spent ones go.
    deleteOlderSpent: compileOnce((grantId: string, keepHash: string) =>
      db.deleteFrom('refresh_tokens').where('grant_id', '=', grantId).where('rotated_at', 'is not', null).where('token_hash', '<>', keepHash),
    ),
    insertRefresh: compileOnce(
      (tokenHash: string, grantId: string, clientId: string, scopes: string, issuedAt: number, expiresAt: number, rotatedAt: number | null, successorHash: string | null) =>
        db.insertInto('refresh_tokens').values({
          token_hash: tokenHash,
          grant_id: grantId,
          client_id: clientId,
          scopes,
          issued_at: issuedAt,
          expires_at: expiresAt,
          rotated_at: rotatedAt,
          successor_hash: successorHash,
        }),
    ),
  };
}

/**
 * Runs statements in order as one atomic unit and returns their results: a transaction on SQLite and
 * PostgreSQL, one `batch()` on D1 (which has no interactive transactions). The operations that are a
 * fixed list of statements (revocation, removing a user, rotating signing keys) run through it.
 */
export type RunAtomically = (queries: readonly CompiledQuery[]) => Promise<QueryResult<unknown>[]>;

export const inTransaction =
  (db: Kysely<Database>): RunAtomically =>
  (queries) =>
    db.transaction().execute(async (trx) => {
      const results: QueryResult<unknown>[] = [];
      for (const q of queries) results.push(await trx.executeQuery(q));
      return results;
    });

export interface KyselyStorageOptions {
  /** Called by `close()`; by default it destroys `db`. */
  onClose?: () => Promise<void>;
  /** How fixed lists of statements run atomically; by default in a transaction. */
  runAtomically?: RunAtomically;
  /**
   * Removes clients (those of `ids` that `where` still admits) with everything issued to them, keeping
   * the counter of self-registered clients, atomically; returns how many. By default in a transaction.
   */
  deleteClients?: (ids: readonly string[], where?: (q: any) => any) => Promise<number>;
  /** Rotations of one event-loop turn share a transaction (group-commit.ts): for a single-connection database. */
  groupCommit?: boolean;
}

/**
 * The storage contract over Kysely: one implementation for SQLite, PostgreSQL and D1. Single use and
 * rotation are conditional UPDATEs (atomic per row in every engine), never read-then-write. Signing
 * keys' private halves and settings are sealed under `keyRing` (sealed-secrets.ts) before they are written.
 */
export function createKyselyStorage(db: Kysely<Database>, keyRing: KeyRing, options: KyselyStorageOptions = {}): Storage {
  const hot = hotQueries(db);
  const atomically = options.runAtomically ?? inTransaction(db);
  const removeClients = options.deleteClients ?? ((ids, where) => db.transaction().execute((trx) => deleteClients(trx, ids, where)));
  const liveGrant = async (runner: Db, id: string, now: number): Promise<GrantRecord | null> => {
    const [g] = (await hot.grant(runner, id)).rows;
    const grant = g ? toGrant(g) : null;
    return grant && grantIsLive(grant, now) ? grant : null;
  };
  const insertRefresh = (runner: Db, t: RefreshTokenRecord) =>
    hot.insertRefresh(runner, t.tokenHash, t.grantId, t.clientId, join(t.scopes), t.issuedAt, t.expiresAt, t.rotatedAt, t.successorHash);

  /** One rotation, inside the caller's transaction (one of its own, or a savepoint of a group commit). */
  const rotateIn = async (trx: Transaction<Database>, input: RotateRefreshInput): Promise<RotateResult> => {
    const { tokenHash, successor, now } = input;
    const [won] = (await hot.markRotated(trx, tokenHash, successor.tokenHash, now)).rows;
    if (won) {
      // The UPDATE found the grant live; read it only when the caller did not pass it.
      const grant = input.grant?.id === won.grant_id ? input.grant : await liveGrant(trx, won.grant_id, now);
      if (!grant) return { status: 'invalid' } as const;
      await insertRefresh(trx, { ...successor, rotatedAt: null, successorHash: null });
      await hot.deleteOlderSpent(trx, won.grant_id, tokenHash);
      return { status: 'rotated', grant } as const;
    }
    const seen = await trx.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    if (!seen || seen.rotated_at === null) return { status: 'invalid' } as const;
    const previous = toRefresh(seen);
    const g = await trx.selectFrom('grants').selectAll().where('id', '=', previous.grantId).executeTakeFirst();
    const grant = g ? toGrant(g) : null;
    if (!grant || !grantIsLive(grant, now)) return { status: 'invalid' } as const;
    const next = await trx.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', successor.tokenHash).executeTakeFirst();
    const successorUnused = previous.successorHash === successor.tokenHash && next !== undefined && next.rotated_at === null && num(next.expires_at) > now;
    if (successorUnused && isHonestRetry(previous.rotatedAt ?? 0, input)) return { status: 'retry', grant } as const;
    await revokeGrant(trx, previous.grantId, now);
    return { status: 'reused', grantId: previous.grantId } as const;
  };
  // SQLite has one connection, where rotations take turns anyway: those of one event-loop turn share a
  // transaction (group-commit.ts). On a pool each rotation has its own transaction, side by side.
  const grouped = options.groupCommit ? groupCommit(db, rotateIn) : null;
  const rotate = grouped ?? ((input: RotateRefreshInput) => db.transaction().execute((trx) => rotateIn(trx, input)));

  return {
    users: {
      async create(u) {
        await db
          .insertInto('users')
          .values({ id: u.id, username: u.username, password_hash: u.passwordHash, is_admin: u.isAdmin ? 1 : 0, created_at: u.createdAt })
          .execute();
      },
      async byId(id) {
        const r = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
        return r ? toUser(r) : null;
      },
      async byUsername(username) {
        const r = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
        return r ? toUser(r) : null;
      },
      async list() {
        return (await db.selectFrom('users').selectAll().orderBy('created_at').execute()).map(toUser);
      },
      async count() {
        const r = await db.selectFrom('users').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        return num(r.n);
      },
      async remove(id) {
        return changed((await atomically(removeUserQueries(db, id))).at(-1)) > 0;
      },
      async setPassword(id, passwordHash) {
        await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
      },
      async setAdmin(id, isAdmin) {
        const r = await db.updateTable('users').set({ is_admin: isAdmin ? 1 : 0 }).where('id', '=', id).executeTakeFirst();
        return Number(r.numUpdatedRows) > 0;
      },
      async groups(id) {
        const rows = await db.selectFrom('user_groups').select('group_name').where('user_id', '=', id).orderBy('group_name').execute();
        return rows.map((r) => r.group_name);
      },
      async setGroups(id, groups) {
        // Unknown users get no groups. (Ids are random and never reused, so even a removal racing this
        // could only leave rows no user will ever match.)
        const user = await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst();
        if (!user) return false;
        // The old set out and the new one in, atomically: a transaction, or one batch on D1.
        await atomically([
          db.deleteFrom('user_groups').where('user_id', '=', id).compile(),
          ...[...new Set(groups)].map((g) => db.insertInto('user_groups').values({ user_id: id, group_name: g }).compile()),
        ]);
        return true;
      },
    },

    clients: {
      async create(c, cap) {
        // Operator clients are never counted nor capped.
        if (c.source !== 'dcr') {
          await db.insertInto('clients').values(toClientRow(c)).execute();
          return true;
        }
        // The counter update comes first and locks its row until commit, so concurrent registrations
        // take turns: the cap holds without counting the table (HARD-7).
        try {
          return await db.transaction().execute(async (trx) => {
            const count = await bumpClientCounter(trx, 1);
            if (cap && count > cap.max && !(await evictOneUnused(trx, cap))) throw new NoRoom();
            await trx.insertInto('clients').values(toClientRow(c)).execute();
            return true;
          });
        } catch (error) {
          if (error instanceof NoRoom) return false;
          throw error;
        }
      },
      async get(clientId) {
        const [r] = (await hot.client(db, clientId)).rows;
        return r ? toClient(r) : null;
      },
      async byMetadataHash(hash) {
        const r = await db.selectFrom('clients').selectAll().where('metadata_hash', '=', hash).executeTakeFirst();
        return r ? toClient(r) : null;
      },
      async list() {
        return (await db.selectFrom('clients').selectAll().orderBy('created_at').execute()).map(toClient);
      },
      async remove(clientId) {
        return (await removeClients([clientId])) > 0;
      },
      async prune(rule) {
        const size = rule.batchSize ?? DEFAULT_BATCH;
        // Re-checked by the delete itself, so a client that completed a grant meanwhile stays.
        const prunable = (q: any) =>
          q.where('source', '=', 'dcr').where((e: any) =>
            e.or([
              e.and([e('last_grant_at', 'is', null), e('created_at', '<', rule.unusedCreatedBefore)]),
              e.and([
                e('last_grant_at', '<', rule.idleSince),
                e.not(
                  e.exists(
                    db
                      .selectFrom('grants')
                      .select('grants.id')
                      .where(sql<boolean>`grants.client_id = clients.client_id`)
                      .where('grants.revoked_at', 'is', null)
                      .where('grants.expires_at', '>', rule.now),
                  ),
                ),
              ]),
            ]),
          );
        let total = 0;
        for (;;) {
          const ids = (await prunable(db.selectFrom('clients').select('client_id')).limit(size).execute()) as { client_id: string }[];
          if (ids.length === 0) return total;
          total += await removeClients(ids.map((r) => r.client_id), prunable);
          if (ids.length < size) return total;
          await (rule.pause ?? nextTurn)();
        }
      },
      async count(source) {
        let q = db.selectFrom('clients').select((e) => e.fn.countAll<number>().as('n'));
        if (source) q = q.where('source', '=', source);
        return num((await q.executeTakeFirstOrThrow()).n);
      },
    },

    authorizationRequests: {
      async create(r) {
        await db
          .insertInto('authorization_requests')
          .values({
            id: r.id,
            client_id: r.clientId,
            redirect_uri: r.redirectUri,
            state: r.state,
            scopes: join(r.scopes),
            resource: r.resource,
            code_challenge: r.codeChallenge,
            nonce: r.nonce,
            prompt: r.prompt,
            created_at: r.createdAt,
            expires_at: r.expiresAt,
            dpop_jkt: r.dpopJkt ?? null,
          })
          .execute();
      },
      async get(id, now) {
        const r = await db.selectFrom('authorization_requests').selectAll().where('id', '=', id).where('expires_at', '>', now).executeTakeFirst();
        return r ? toRequest(r) : null;
      },
      async take(id, now) {
        const r = await db.deleteFrom('authorization_requests').where('id', '=', id).returningAll().executeTakeFirst();
        return r && num(r.expires_at) > now ? toRequest(r) : null;
      },
    },

    authorizationCodes: {
      async create(c) {
        await db
          .insertInto('authorization_codes')
          .values({
            code_hash: c.codeHash,
            grant_id: c.grantId,
            client_id: c.clientId,
            user_id: c.userId,
            redirect_uri: c.redirectUri,
            code_challenge: c.codeChallenge,
            scopes: join(c.scopes),
            resource: c.resource,
            nonce: c.nonce,
            auth_time: c.authTime,
            issue_refresh_token: c.issueRefreshToken ? 1 : 0,
            expires_at: c.expiresAt,
            consumed_at: null,
            dpop_jkt: c.dpopJkt ?? null,
          })
          .execute();
      },
      async peek(codeHash, now) {
        const r = await db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
        if (!r) return null;
        const consumed = r.consumed_at !== null;
        if (!consumed && num(r.expires_at) <= now) return null;
        return { code: toCode(r), consumed };
      },
      async redeem(codeHash, now, grantExpiresAt, refreshToken, grantDpopJkt) {
        return db.transaction().execute(async (trx) => {
          const won = await trx
            .updateTable('authorization_codes')
            .set({ consumed_at: now })
            .where('code_hash', '=', codeHash)
            .where('consumed_at', 'is', null)
            .where('expires_at', '>', now)
            .returningAll()
            .executeTakeFirst();
          if (won) {
            const code = toCode(won);
            const grant = grantOfCode(code, now, grantExpiresAt, grantDpopJkt);
            // One transaction: the code is used, its grant and first refresh token exist, and the
            // client is marked as used, or none of it (a crash between them left live grants without
            // a refresh token: HARD-9).
            await trx.insertInto('grants').values(toGrantRow(grant)).execute();
            if (refreshToken && code.issueRefreshToken) {
              await insertRefresh(trx, {
                tokenHash: refreshToken.tokenHash,
                grantId: grant.id,
                clientId: grant.clientId,
                scopes: grant.scopes,
                issuedAt: now,
                expiresAt: refreshToken.expiresAt,
                rotatedAt: null,
                successorHash: null,
              });
            }
            await markClientUsed(trx, code.clientId, now);
            return { status: 'ok', code, grant } as const;
          }
          const seen = await trx.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
          if (seen && seen.consumed_at !== null) return { status: 'replayed', code: toCode(seen) } as const;
          return { status: 'invalid' } as const;
        });
      },
    },

    grants: {
      async create(g) {
        await atomically(createGrantQueries(db, g));
      },
      async get(id) {
        const [r] = (await hot.grant(db, id)).rows;
        return r ? toGrant(r) : null;
      },
      async revoke(id, now) {
        const [revoked] = await atomically(revokeGrantQueries(db, id, now));
        return changed(revoked) > 0;
      },
      async bindDpopKey(id, jkt) {
        const bound = await db.updateTable('grants').set({ dpop_jkt: jkt }).where('id', '=', id).where('revoked_at', 'is', null).where('dpop_jkt', 'is', null).executeTakeFirst();
        if (Number(bound.numUpdatedRows) > 0) return true;
        // Not bound by this call: already bound (by this key, on a retry, or another), revoked, or unknown.
        const row = await db.selectFrom('grants').select(['dpop_jkt', 'revoked_at']).where('id', '=', id).executeTakeFirst();
        return row !== undefined && row.revoked_at === null && row.dpop_jkt === jkt;
      },
      async listForUser(userId) {
        return (await db.selectFrom('grants').selectAll().where('user_id', '=', userId).orderBy('created_at').execute()).map(toGrant);
      },
      async activityForUser(userId, now) {
        const grants = (
          await db.selectFrom('grants').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null).where('expires_at', '>', now).orderBy('created_at').execute()
        ).map(toGrant);
        if (grants.length === 0) return [];
        // A grant keeps at most two refresh token rows (HARD-8): its live one, issued at its latest use, and the one that replaced.
        const tokens = await db
          .selectFrom('refresh_tokens')
          .select(['grant_id', 'issued_at', 'expires_at', 'rotated_at'])
          .where('grant_id', 'in', grants.map((g) => g.id))
          .execute();
        return grants.map((grant) => {
          const own = tokens.filter((t) => t.grant_id === grant.id);
          const live = own.filter((t) => t.rotated_at === null && num(t.expires_at) > now);
          return {
            grant,
            lastUsedAt: Math.max(grant.createdAt, ...own.map((t) => num(t.issued_at))),
            refreshableUntil: live.length > 0 ? Math.max(...live.map((t) => num(t.expires_at))) : null,
          };
        });
      },
      async listLive({ now, userId, clientId, limit }) {
        let q = db.selectFrom('grants').selectAll().where('revoked_at', 'is', null).where('expires_at', '>', now);
        if (userId !== undefined) q = q.where('user_id', '=', userId);
        if (clientId !== undefined) q = q.where('client_id', '=', clientId);
        q = q.orderBy('created_at').orderBy('id');
        if (limit !== undefined) q = q.limit(limit);
        return (await q.execute()).map(toGrant);
      },
      async liveCountByClient(now) {
        const rows = await db
          .selectFrom('grants')
          .select(['client_id', (e) => e.fn.countAll<number>().as('n')])
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', now)
          .groupBy('client_id')
          .execute();
        return new Map(rows.map((r) => [r.client_id, num(r.n)]));
      },
      async revokeForUser(userId, now) {
        // Each grant is revoked atomically with its tokens (a transaction, or one batch on D1).
        const live = await db.selectFrom('grants').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
        const revoked: string[] = [];
        for (const g of live) if (changed((await atomically(revokeGrantQueries(db, g.id, now)))[0]) > 0) revoked.push(g.id);
        return revoked;
      },
    },

    refreshTokens: {
      async create(t) {
        await insertRefresh(db, t);
      },
      async get(tokenHash) {
        const r = await db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
        return r ? toRefresh(r) : null;
      },
      async getWithGrant(tokenHash) {
        const [r] = (await hot.refreshWithGrant(db, tokenHash)).rows;
        return r ? toTokenWithGrant(r) : null;
      },
      rotate,
    },

    consents: {
      async get(userId, clientId) {
        const r = await db.selectFrom('consents').selectAll().where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
        return r ? { userId: r.user_id, clientId: r.client_id, scopes: words(r.scopes), updatedAt: num(r.updated_at) } : null;
      },
      async remember(userId, clientId, scopes, now) {
        // An upsert, so two concurrent decisions never collide on the key; the later one may drop a scope
        // the other added, which only means the user is asked again next time.
        const r = await db.selectFrom('consents').select('scopes').where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
        const union = join([...new Set([...(r ? words(r.scopes) : []), ...scopes])].sort());
        await db
          .insertInto('consents')
          .values({ user_id: userId, client_id: clientId, scopes: union, updated_at: now })
          .onConflict((oc) => oc.columns(['user_id', 'client_id']).doUpdateSet({ scopes: union, updated_at: now }))
          .execute();
      },
      async forget(userId, clientId) {
        await db.deleteFrom('consents').where('user_id', '=', userId).where('client_id', '=', clientId).execute();
      },
    },

    loginSessions: {
      async create(s) {
        await db
          .insertInto('login_sessions')
          .values({ id_hash: s.idHash, user_id: s.userId, csrf_secret: s.csrfSecret, created_at: s.createdAt, expires_at: s.expiresAt })
          .execute();
      },
      async get(idHash, now) {
        const r = await db.selectFrom('login_sessions').selectAll().where('id_hash', '=', idHash).where('expires_at', '>', now).executeTakeFirst();
        return r ? { idHash: r.id_hash, userId: r.user_id, csrfSecret: r.csrf_secret, createdAt: num(r.created_at), expiresAt: num(r.expires_at) } : null;
      },
      async remove(idHash) {
        await db.deleteFrom('login_sessions').where('id_hash', '=', idHash).execute();
      },
      async list({ now, userId }) {
        let q = db.selectFrom('login_sessions').selectAll().where('expires_at', '>', now);
        if (userId !== undefined) q = q.where('user_id', '=', userId);
        const rows = await q.orderBy('created_at').orderBy('id_hash').execute();
        return rows.map((r) => ({ idHash: r.id_hash, userId: r.user_id, csrfSecret: r.csrf_secret, createdAt: num(r.created_at), expiresAt: num(r.expires_at) }));
      },
      async removeForUser(userId, keepIdHash) {
        let q = db.deleteFrom('login_sessions').where('user_id', '=', userId);
        if (keepIdHash !== undefined) q = q.where('id_hash', '<>', keepIdHash);
        return Number((await q.executeTakeFirst()).numDeletedRows);
      },
    },

    externalIdentities: {
      async resolve(identity, newUser, now) {
        const linked = (trx: Db) =>
          trx
            .selectFrom('external_identities')
            .innerJoin('users', 'users.id', 'external_identities.user_id')
            .selectAll('users')
            .where('provider', '=', identity.provider)
            .where('issuer', '=', identity.issuer)
            .where('subject', '=', identity.subject)
            .executeTakeFirst();
        const touch = (trx: Db) =>
          trx
            .updateTable('external_identities')
            .set({ last_login_at: now })
            .where('provider', '=', identity.provider)
            .where('issuer', '=', identity.issuer)
            .where('subject', '=', identity.subject)
            .execute();
        try {
          return await db.transaction().execute(async (trx) => {
            const existing = await linked(trx);
            if (existing) {
              await touch(trx);
              return { user: toUser(existing), created: false };
            }
            await trx
              .insertInto('users')
              .values({ id: newUser.id, username: newUser.username, password_hash: newUser.passwordHash, is_admin: newUser.isAdmin ? 1 : 0, created_at: newUser.createdAt })
              .execute();
            await trx
              .insertInto('external_identities')
              .values({ provider: identity.provider, issuer: identity.issuer, subject: identity.subject, user_id: newUser.id, created_at: now, last_login_at: now })
              .execute();
            return { user: newUser, created: true };
          });
        } catch (error) {
          // A concurrent first login of the same identity won the insert: use the user it created.
          const existing = await linked(db);
          if (!existing) throw error;
          await touch(db);
          return { user: toUser(existing), created: false };
        }
      },
      async listForUser(userId) {
        const rows = await db.selectFrom('external_identities').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
        return rows.map((r) => ({
          provider: r.provider,
          issuer: r.issuer,
          subject: r.subject,
          userId: r.user_id,
          createdAt: num(r.created_at),
          lastLoginAt: num(r.last_login_at),
        }));
      },
    },

    upstreamTransactions: {
      async create(t) {
        await db
          .insertInto('upstream_transactions')
          .values({
            state_hash: t.stateHash,
            browser_hash: t.browserHash,
            request_id: t.requestId,
            provider: t.provider,
            code_verifier: t.codeVerifier,
            nonce: t.nonce,
            created_at: t.createdAt,
            expires_at: t.expiresAt,
          })
          .execute();
      },
      async take(stateHash, now) {
        const r = await db.deleteFrom('upstream_transactions').where('state_hash', '=', stateHash).returningAll().executeTakeFirst();
        if (!r || num(r.expires_at) <= now) return null;
        return {
          stateHash: r.state_hash,
          browserHash: r.browser_hash,
          requestId: r.request_id,
          provider: r.provider,
          codeVerifier: r.code_verifier,
          nonce: r.nonce,
          createdAt: num(r.created_at),
          expiresAt: num(r.expires_at),
        };
      },
    },

    usedAssertions: {
      async markUsed(key, expiresAt, now) {
        // One statement: a new key is inserted; an existing one is taken over only if its use expired.
        // A row comes back exactly when this call recorded the use, so concurrent callers get one `true`.
        const row = await db
          .insertInto('used_assertions')
          .values({ key, expires_at: expiresAt })
          .onConflict((oc) => oc.column('key').doUpdateSet({ expires_at: expiresAt }).where('used_assertions.expires_at', '<=', now))
          .returning('key')
          .executeTakeFirst();
        return row !== undefined;
      },
    },

    failures: {
      async get(key, now) {
        const r = await db.selectFrom('failures').selectAll().where('key', '=', key).executeTakeFirst();
        return toFailureCounter(r, now);
      },
      async getMany(keys, now) {
        if (keys.length === 0) return [];
        // Two keys (a client and an address) on every authenticated token request: compiled once.
        const rows = keys.length <= 2 ? (await hot.failurePair(db, keys[0]!, keys[1] ?? keys[0]!)).rows : await db.selectFrom('failures').selectAll().where('key', 'in', keys).execute();
        return keys.map((key) => toFailureCounter(rows.find((r) => r.key === key), now));
      },
      async record(key, now, lockMs, windowMs) {
        // The increment is one atomic upsert, so concurrent failures are all counted.
        const row = await db
          .insertInto('failures')
          .values({ key, count: 1, first_at: now, locked_until: 0 })
          .onConflict((oc) =>
            oc.column('key').doUpdateSet({
              count: sql<number>`case when ${now} - failures.first_at > ${windowMs} then 1 else failures.count + 1 end`,
              first_at: sql<number>`case when ${now} - failures.first_at > ${windowMs} then ${now} else failures.first_at end`,
            }),
          )
          .returning(['count'])
          .executeTakeFirstOrThrow();
        const count = num(row.count);
        const lock = now + lockMs(count);
        // Never shortens a lock: a concurrent failure counted higher may already have set a longer one
        // between the two statements, and the last writer must not undo it.
        const updated = await db
          .updateTable('failures')
          .set({ locked_until: sql<number>`case when failures.locked_until > ${lock} then failures.locked_until else ${lock} end` })
          .where('key', '=', key)
          .returning(['locked_until'])
          .executeTakeFirst();
        return { count, lockedUntil: updated ? num(updated.locked_until) : lock };
      },
      async clear(key) {
        await db.deleteFrom('failures').where('key', '=', key).execute();
      },
    },

    rateLimits: {
      async hit(key, windowMs, now) {
        const [row] = (await hot.rateLimitHit(db, key, now, now + windowMs)).rows;
        return { count: num(row!.count), resetAt: num(row!.reset_at) };
      },
    },

    tasks: {
      async list(userId) {
        return (await db.selectFrom('tasks').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute()).map(toTask);
      },
      async create(t) {
        await db
          .insertInto('tasks')
          .values({ id: t.id, user_id: t.userId, title: t.title, done: t.done ? 1 : 0, created_at: t.createdAt, completed_at: t.completedAt })
          .execute();
      },
      async complete(userId, id, now) {
        const r = await db
          .updateTable('tasks')
          .set({ done: 1, completed_at: sql<number>`coalesce(completed_at, ${now})` })
          .where('id', '=', id)
          .where('user_id', '=', userId)
          .returningAll()
          .executeTakeFirst();
        return r ? toTask(r) : null;
      },
      async remove(userId, id) {
        const r = await db.deleteFrom('tasks').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
        return Number(r.numDeletedRows) > 0;
      },
    },

    signingKeys: {
      async list() {
        const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();
        return rows.map((r) => ({ ...toKey(r), privateJwk: keyRing.open(signingKeyPurpose(r.kid), r.private_jwk) }));
      },
      async addIfNoneActive(k) {
        // One conditional statement: the unique index signing_keys_one_active (migration 004) admits one
        // unretired key, so of instances starting together on an empty database exactly one inserts.
        const row = await db
          .insertInto('signing_keys')
          .values(keyRow(k, keyRing.seal(signingKeyPurpose(k.kid), k.privateJwk)))
          .onConflict((oc) => oc.doNothing())
          .returning('kid')
          .executeTakeFirst();
        return row !== undefined;
      },
      async rotate(next, now, publishUntil) {
        // Retire-then-add in one transaction (one batch() on D1): nobody ever sees no active key or two.
        await atomically([
          db.updateTable('signing_keys').set({ retired_at: now, publish_until: publishUntil }).where('retired_at', 'is', null).compile(),
          db.insertInto('signing_keys').values(keyRow(next, keyRing.seal(signingKeyPurpose(next.kid), next.privateJwk))).compile(),
        ]);
      },
    },

    settings: {
      async get(name) {
        const r = await db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirst();
        return r ? keyRing.open(settingPurpose(name), r.value) : null;
      },
      async putIfAbsent(name, value) {
        await db
          .insertInto('settings')
          .values({ name, value: keyRing.seal(settingPurpose(name), value) })
          .onConflict((oc) => oc.column('name').doNothing())
          .execute();
        const r = await db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirstOrThrow();
        return keyRing.open(settingPurpose(name), r.value);
      },
    },

    rewrapSecrets: () => rewrapSealedSecrets(db, keyRing),

    async collectExpired(now, options = {}) {
      const pause = options.pause ?? nextTurn;
      const deleted = (r: { numDeletedRows: bigint }) => Number(r.numDeletedRows);
      // Each batch is `delete … where key in (select key … where <expired> limit n)`: the inner select
      // walks the expiry index (migration 005), so an empty sweep reads nothing and a full one holds
      // the database (and, on SQLite, the event loop) for one batch at a time.
      const sweep = <T extends keyof Database & string>(table: T, key: string, expired: (q: any) => any) =>
        inBatches(
          async (limit) =>
            deleted(
              await (db.deleteFrom(table as any) as any)
                .where(key, 'in', expired((db.selectFrom(table as any) as any).select(key)).limit(limit))
                .executeTakeFirst(),
            ),
          options.batchSize,
          pause,
        );
      let n = 0;
      n += await sweep('authorization_requests', 'id', (q) => q.where('expires_at', '<=', now));
      n += await sweep('authorization_codes', 'code_hash', (q) => q.where('expires_at', '<=', now));
      n += await sweep('refresh_tokens', 'token_hash', (q) => q.where('expires_at', '<=', now));
      n += await sweep('login_sessions', 'id_hash', (q) => q.where('expires_at', '<=', now));
      n += await sweep('upstream_transactions', 'state_hash', (q) => q.where('expires_at', '<=', now));
      n += await sweep('used_assertions', 'key', (q) => q.where('expires_at', '<=', now));
      n += await sweep('grants', 'id', (q) => q.where('expires_at', '<=', now));
      n += await sweep('grants', 'id', (q) => q.where('revoked_at', 'is not', null));
      n += await sweep('rate_limits', 'key', (q) => q.where('reset_at', '<=', now));
      n += await sweep('failures', 'key', (q) => q.where('locked_until', '<=', now - 86_400_000));
      n += await sweep('signing_keys', 'kid', (q) => q.where('publish_until', '<=', now));
      return n;
    },

    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },

    async writeProblem() {
      const rolledBack = new Error('write probe: rolled back');
      try {
        await db.transaction().execute(async (trx) => {
          // A row no one reads, under a name no one uses, never committed.
          await trx.insertInto('counters').values({ name: 'write-probe', value: 0 }).execute();
          throw rolledBack;
        });
      } catch (error) {
        if (error === rolledBack) return null;
        return (error as Error).message || String((error as { code?: unknown }).code ?? error);
      }
      return null;
    },

    async close() {
      // Queued rotations commit (or fail) before the database goes away.
      await grouped?.drain();
      await (options.onClose ?? (() => db.destroy()))();
    },
  };
}
