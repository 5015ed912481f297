import {
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import type { D1Database, D1PreparedStatement, D1Result } from './binding.ts';

/** D1 binds numbers, strings, null and bytes; booleans are stored as 0/1 as on SQLite. */
const bindable = (v: unknown): unknown => (typeof v === 'boolean' ? Number(v) : v);

export const statement = (d1: D1Database, query: CompiledQuery): D1PreparedStatement => d1.prepare(query.sql).bind(...query.parameters.map(bindable));

const toQueryResult = <R>(r: D1Result): QueryResult<R> => ({
  rows: r.results as R[],
  numAffectedRows: BigInt(r.meta.changes ?? 0),
  ...(typeof r.meta.last_row_id === 'number' ? { insertId: BigInt(r.meta.last_row_id) } : {}),
});

/**
 * Runs compiled queries as one D1 `batch()`: in order, in one implicit transaction, with no other
 * statement between them. This is how D1 does what a transaction does elsewhere; a statement cannot
 * see an earlier one's result in JavaScript, only in the database, so multi-step operations are
 * written as conditional statements (batch-operations.ts).
 */
export async function runBatch(d1: D1Database, queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
  if (queries.length === 0) return [];
  const results = await d1.batch(queries.map((q) => statement(d1, q)));
  return results.map((r) => toQueryResult(r));
}

export class D1TransactionError extends Error {
  constructor() {
    super('D1 has no interactive transactions: an operation that needs one must be written as one batch() of conditional statements');
  }
}

class D1Connection implements DatabaseConnection {
  readonly #d1: D1Database;
  constructor(d1: D1Database) {
    this.#d1 = d1;
  }
  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return toQueryResult<R>(await statement(this.#d1, query).all());
  }
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('D1 does not stream query results');
  }
}

class D1Driver implements Driver {
  readonly #connection: DatabaseConnection;
  constructor(connection: DatabaseConnection) {
    this.#connection = connection;
  }
  async init(): Promise<void> {}
  // Every statement is its own request to D1: one shared "connection" serves any number of queries at once.
  async acquireConnection(): Promise<DatabaseConnection> {
    return this.#connection;
  }
  async beginTransaction(): Promise<void> {
    throw new D1TransactionError();
  }
  async commitTransaction(): Promise<void> {
    throw new D1TransactionError();
  }
  async rollbackTransaction(): Promise<void> {
    throw new D1TransactionError();
  }
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}
}

/**
 * Kysely over a D1 binding: D1 is SQLite, so queries compile as for SQLite; each runs as one D1
 * statement (or as `connection` runs it: the migrations collect their writes for one batch).
 */
export class D1Dialect implements Dialect {
  readonly #connection: DatabaseConnection;
  constructor(d1: D1Database, connection: DatabaseConnection = new D1Connection(d1)) {
    this.#connection = connection;
  }
  createDriver(): Driver {
    return new D1Driver(this.#connection);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
