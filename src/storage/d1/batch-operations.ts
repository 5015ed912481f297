import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type {
  ClientCap,
  ClientRecord,
  ConsumeCodeResult,
  ExternalIdentityKey,
  FirstRefreshToken,
  RotateRefreshInput,
  RotateResult,
  UserRecord,
} from '../types.ts';
import {
  DCR_COUNTER,
  changed,
  evictionCandidate,
  grantIsLive,
  grantOfCode,
  honestRetryRanges,
  hotQueries,
  join,
  toClientRow,
  toCode,
  toTokenWithGrant,
  toUser,
} from '../sql/kysely-storage.ts';
import type { Database } from '../sql/tables.ts';
import type { D1Database } from './binding.ts';
import { runBatch } from './dialect.ts';

/**
 * The storage operations that take several dependent steps, for D1. D1 has no interactive
 * transaction, only `batch()`: statements that run in order, atomically, with nothing between them.
 * So no step can wait for JavaScript to look at an earlier one's result; each is a conditional
 * statement that finds in the database what it depends on: every statement carries the same
 * condition (the code is unspent; the token unrotated and its grant live; the new client stored),
 * and a statement that changes what the condition reads comes last or makes it true. The batch sees
 * one state throughout, so every step applies or none does, and of concurrent batches exactly one
 * finds the condition true. A failing statement (a taken key) undoes the whole batch.
 *
 * Each operation ends with the reads that tell the caller what happened.
 *
 * SQLite and PostgreSQL keep their transactions (kysely-storage.ts): under PostgreSQL's read committed,
 * concurrent transactions do not see one state, and it is the row lock of the spending UPDATE, taken
 * first, that makes the later steps safe there. Fixed lists of statements are shared (`RunAtomically`).
 */
export function batchOperations(db: Kysely<Database>, d1: D1Database) {
  const hot = hotQueries(db);
  const run = (queries: Parameters<typeof runBatch>[1]) => runBatch(d1, queries);
  const dcrCount = db.selectFrom('counters').select('value').where('name', '=', DCR_COUNTER);
  /** `insert into <table> (<columns>) select <values> where <condition>`: a row added only if the condition holds. */
  const insertIf = <T extends keyof Database & string>(table: T, row: Database[T], condition: Expression<SqlBool>) =>
    db
      .insertInto(table)
      .columns(Object.keys(row) as any)
      .expression(
        db
          .selectNoFrom(Object.entries(row).map(([column, value]) => sql.val(value).as(column)) as any)
          .where(condition as any) as any,
      );

  /** Clients among `ids` that `where` still admits, with everything issued to them; the dcr counter follows. */
  async function deleteClients(ids: readonly string[], where?: (q: any) => any): Promise<number> {
    if (ids.length === 0) return 0;
    const gone = () => {
      const q = db.selectFrom('clients').select('client_id').where('client_id', 'in', ids);
      return where ? where(q) : q;
    };
    // Dependents first, while the clients' rows still say which clients go (guard), the clients last.
    const results = await run([
      db.deleteFrom('refresh_tokens').where('grant_id', 'in', db.selectFrom('grants').select('id').where('client_id', 'in', gone())).compile(),
      ...(['grants', 'authorization_codes', 'authorization_requests', 'consents'] as const).map((table) => db.deleteFrom(table).where('client_id', 'in', gone()).compile()),
      db
        .updateTable('counters')
        .set({ value: sql<number>`value - (${db.selectFrom(gone().where('source', '=', 'dcr').as('g')).select((e) => e.fn.countAll<number>().as('n'))})` })
        .where('name', '=', DCR_COUNTER)
        .compile(),
      where ? where(db.deleteFrom('clients').where('client_id', 'in', ids)).compile() : db.deleteFrom('clients').where('client_id', 'in', ids).compile(),
    ]);
    return changed(results.at(-1));
  }

  /**
   * A self-registered client and its count in one batch. With a cap: the client is stored if there is
   * room or a client can be evicted; then, once it is stored (its row is the guard: had it existed,
   * the insert would have failed the batch), at the cap the eviction candidate goes with everything
   * issued to it, and below the cap the count grows.
   */
  async function createSelfRegistered(c: ClientRecord, cap?: ClientCap): Promise<boolean> {
    if (!cap) {
      await run([
        db.insertInto('clients').values(toClientRow(c)).compile(),
        db.updateTable('counters').set({ value: sql<number>`value + 1` }).where('name', '=', DCR_COUNTER).compile(),
      ]);
      return true;
    }
    const full = sql<SqlBool>`(${dcrCount}) >= ${cap.max}`;
    const victim = () => evictionCandidate(db, cap).where('client_id', '<>', c.clientId);
    const stored = sql<SqlBool>`exists ${db.selectFrom('clients').select('client_id').where('client_id', '=', c.clientId)}`;
    const evict = (q: any) => q.where('client_id', 'in', victim()).where(full).where(stored);
    const results = await run([
      insertIf('clients', toClientRow(c), sql<SqlBool>`not (${full}) or exists ${victim()}`).compile(),
      db.deleteFrom('refresh_tokens').where('grant_id', 'in', evict(db.selectFrom('grants').select('id'))).compile(),
      ...(['grants', 'authorization_codes', 'authorization_requests', 'consents', 'clients'] as const).map((table) => evict(db.deleteFrom(table)).compile()),
      db.updateTable('counters').set({ value: sql<number>`value + 1` }).where('name', '=', DCR_COUNTER).where(sql<SqlBool>`not (${full})`).where(stored).compile(),
    ]);
    return changed(results[0]) === 1;
  }

  async function redeem(codeHash: string, now: number, grantExpiresAt: number, refreshToken?: FirstRefreshToken | null, grantDpopJkt?: string | null): Promise<ConsumeCodeResult> {
    const unspent = () =>
      db.selectFrom('authorization_codes').where('code_hash', '=', codeHash).where('consumed_at', 'is', null).where('expires_at', '>', now);
    const results = await run([
      db
        .insertInto('grants')
        .columns(['id', 'user_id', 'client_id', 'scopes', 'resource', 'created_at', 'expires_at', 'revoked_at', 'dpop_jkt'])
        .expression(
          unspent().select((e) => [
            'grant_id',
            'user_id',
            'client_id',
            'scopes',
            'resource',
            e.val(now).as('created_at'),
            e.val(grantExpiresAt).as('expires_at'),
            sql<null>`null`.as('revoked_at'),
            e.val<string | null>(grantDpopJkt ?? null).as('dpop_jkt'),
          ]),
        )
        .compile(),
      ...(refreshToken
        ? [
            db
              .insertInto('refresh_tokens')
              .columns(['token_hash', 'grant_id', 'client_id', 'scopes', 'issued_at', 'expires_at', 'rotated_at', 'successor_hash'])
              .expression(
                unspent()
                  .where('issue_refresh_token', '=', 1)
                  .select((e) => [
                    e.val(refreshToken.tokenHash).as('token_hash'),
                    'grant_id',
                    'client_id',
                    'scopes',
                    e.val(now).as('issued_at'),
                    e.val(refreshToken.expiresAt).as('expires_at'),
                    sql<null>`null`.as('rotated_at'),
                    sql<null>`null`.as('successor_hash'),
                  ]),
              )
              .compile(),
          ]
        : []),
      db.updateTable('clients').set({ last_grant_at: now }).where('client_id', 'in', unspent().select('client_id')).compile(),
      // Spends the code: last, so every statement above saw it unspent.
      db.updateTable('authorization_codes').set({ consumed_at: now }).where('code_hash', '=', codeHash).where('consumed_at', 'is', null).where('expires_at', '>', now).returningAll().compile(),
      db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).compile(),
    ]);
    const [won] = results.at(-2)!.rows as Database['authorization_codes'][];
    if (won) {
      const code = toCode(won);
      return { status: 'ok', code, grant: grantOfCode(code, now, grantExpiresAt, grantDpopJkt) };
    }
    const [seen] = results.at(-1)!.rows as Database['authorization_codes'][];
    return seen && seen.consumed_at !== null ? { status: 'replayed', code: toCode(seen) } : { status: 'invalid' };
  }

  async function rotate(input: RotateRefreshInput): Promise<RotateResult> {
    const { tokenHash, successor, now } = input;
    const grantOfToken = db.selectFrom('refresh_tokens').select('grant_id').where('token_hash', '=', tokenHash);
    // The token is unrotated and unexpired and its grant live: what `markRotated` spends.
    const spendable = sql<SqlBool>`exists ${db
      .selectFrom('refresh_tokens as t')
      .innerJoin('grants as g', 'g.id', 't.grant_id')
      .select('t.token_hash')
      .where('t.token_hash', '=', tokenHash)
      .where('t.rotated_at', 'is', null)
      .where('t.expires_at', '>', now)
      .where('g.revoked_at', 'is', null)
      .where('g.expires_at', '>', now)}`;
    // A spent token presented again is a retry only with this successor, still unused, within the grace period (HARD-9).
    const retry = db
      .selectFrom('refresh_tokens as t')
      .innerJoin('refresh_tokens as n', 'n.token_hash', 't.successor_hash')
      .select('t.token_hash')
      .where('t.token_hash', '=', tokenHash)
      .where('t.successor_hash', '=', successor.tokenHash)
      .where('n.rotated_at', 'is', null)
      .where('n.expires_at', '>', now)
      .where((e) => e.or(honestRetryRanges(input).map(([from, until]) => e.and([e('t.rotated_at', '>=', from), e('t.rotated_at', '<', until)]))));
    const results = await run([
      // Reuse first, on the state before this batch: a spent token of a live grant that is no retry revokes the grant…
      db
        .updateTable('grants')
        .set({ revoked_at: now })
        .where('id', '=', db.selectFrom('refresh_tokens').select('grant_id').where('token_hash', '=', tokenHash).where('rotated_at', 'is not', null))
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .where((e) => e.not(e.exists(retry)))
        .returning('id')
        .compile(),
      // …and its refresh tokens go with it (a revoked grant has none).
      db
        .deleteFrom('refresh_tokens')
        .where('grant_id', 'in', db.selectFrom('grants').select('id').where('id', '=', grantOfToken).where('revoked_at', 'is not', null))
        .compile(),
      // Rotation: the successor, then the older spent tokens go (HARD-8), then the token is spent, last.
      insertIf('refresh_tokens', { ...refreshRow(successor), rotated_at: null, successor_hash: null }, spendable).compile(),
      db
        .deleteFrom('refresh_tokens')
        .where('grant_id', '=', grantOfToken)
        .where('rotated_at', 'is not', null)
        .where('token_hash', '<>', tokenHash)
        .where(spendable)
        .compile(),
      hot.markRotated.query(tokenHash, successor.tokenHash, now),
      hot.refreshWithGrant.query(tokenHash),
    ]);
    const [reused] = results[0]!.rows as { id: string }[];
    if (reused) return { status: 'reused', grantId: reused.id };
    const [row] = results.at(-1)!.rows as Parameters<typeof toTokenWithGrant>[0][];
    const found = row ? toTokenWithGrant(row) : null;
    if (!found || !grantIsLive(found.grant, now) || found.token.rotatedAt === null) return { status: 'invalid' };
    const won = results.at(-2)!.rows.length > 0;
    if (won) return { status: 'rotated', grant: input.grant?.id === found.grant.id ? input.grant : found.grant };
    // Spent before, grant live, and the reuse statement did not fire: a retry.
    return { status: 'retry', grant: found.grant };
  }

  async function resolveExternal(identity: ExternalIdentityKey, newUser: UserRecord, now: number): Promise<{ user: UserRecord; created: boolean }> {
    const key = <Q extends { where: (...args: any[]) => any }>(q: Q): Q =>
      q.where('provider', '=', identity.provider).where('issuer', '=', identity.issuer).where('subject', '=', identity.subject);
    const unlinked = sql<SqlBool>`not exists ${key(db.selectFrom('external_identities').select('user_id'))}`;
    const results = await run([
      insertIf('users', { id: newUser.id, username: newUser.username, password_hash: newUser.passwordHash, is_admin: newUser.isAdmin ? 1 : 0, created_at: newUser.createdAt }, unlinked).compile(),
      // Linked last: the user above was created only if this identity was unlinked, so of concurrent first logins one links.
      insertIf('external_identities', { ...identity, user_id: newUser.id, created_at: now, last_login_at: now }, unlinked).compile(),
      key(db.updateTable('external_identities').set({ last_login_at: now })).compile(),
      key(db.selectFrom('external_identities').innerJoin('users', 'users.id', 'external_identities.user_id').selectAll('users')).compile(),
    ]);
    const [user] = results[3]!.rows as Database['users'][];
    if (!user) throw new Error('external identity: the link was not found after it was made');
    return { user: toUser(user), created: changed(results[1]) === 1 };
  }

  return { deleteClients, createSelfRegistered, redeem, rotate, resolveExternal };
}

const refreshRow = (t: RotateRefreshInput['successor']): Database['refresh_tokens'] => ({
  token_hash: t.tokenHash,
  grant_id: t.grantId,
  client_id: t.clientId,
  scopes: join(t.scopes),
  issued_at: t.issuedAt,
  expires_at: t.expiresAt,
  rotated_at: t.rotatedAt,
  successor_hash: t.successorHash,
});
