import type { Compilable, CompiledQuery, QueryResult } from 'kysely';

/** Stands for the i-th argument while a query is built; it ends up as one of the compiled query's parameters. */
class Placeholder {
  readonly index: number;
  constructor(index: number) {
    this.index = index;
  }
}

type Slot = { argument: number } | { constant: unknown };

/** A database or a transaction (both `Kysely` and `Transaction` are). */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/** A query compiled once: run it on a database or in a transaction, or take it with its values (for a D1 batch). */
export interface CompiledOnce<Args extends unknown[], Row> {
  (runner: QueryRunner, ...args: Args): Promise<QueryResult<Row>>;
  query(...args: Args): CompiledQuery<Row>;
}

/**
 * A query that Kysely builds and compiles once, then runs with new argument values. Kysely builds
 * and compiles a query on every call, and on SQLite that costs about as much as running it: for the
 * token endpoint's few queries, run thousands of times a second, it was a tenth of the CPU time of a
 * refresh (bench/README.md).
 *
 * `build` is called once, with placeholders for its arguments, which it must use only as values
 * (compared, inserted, set), never to choose the query's shape: each then becomes one parameter of
 * the compiled SQL, in whatever order the dialect puts them. Anything else the query contains stays
 * as compiled. The result runs on the database or inside a transaction, or gives the query with its
 * values (`.query(...)`) to run in a batch.
 */
export function compileOnce<Args extends unknown[], Row>(build: (...args: Args) => Compilable<Row>): CompiledOnce<Args, Row> {
  const placeholders = Array.from({ length: build.length }, (_, i) => new Placeholder(i)) as unknown as Args;
  const compiled: CompiledQuery<Row> = build(...placeholders).compile();
  const slots: Slot[] = compiled.parameters.map((p) => (p instanceof Placeholder ? { argument: p.index } : { constant: p }));
  const used = new Set(slots.flatMap((s) => ('argument' in s ? [s.argument] : [])));
  if (used.size !== build.length) throw new Error(`compileOnce: every argument must become a parameter of the query (${compiled.sql})`);
  const query = (...args: Args): CompiledQuery<Row> => ({ ...compiled, parameters: slots.map((s) => ('argument' in s ? args[s.argument] : s.constant)) });
  return Object.assign((runner: QueryRunner, ...args: Args) => runner.executeQuery<Row>(query(...args)), { query });
}
