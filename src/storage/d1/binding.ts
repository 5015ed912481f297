/**
 * The part of Cloudflare's D1 binding the storage uses, declared here so the storage compiles without
 * the Workers type library (whose globals clash with Node's). A Worker's `env.DB` and Miniflare's
 * `getD1Database()` both fit it.
 */
export interface D1Result<Row = Record<string, unknown>> {
  results: Row[];
  success: boolean;
  meta: { changes?: number; last_row_id?: number; [key: string]: unknown };
}

export interface D1PreparedStatement {
  bind(...values: unknown[]): D1PreparedStatement;
  all<Row = Record<string, unknown>>(): Promise<D1Result<Row>>;
  run(): Promise<D1Result>;
}

export interface D1Database {
  prepare(query: string): D1PreparedStatement;
  /** Runs the statements in order in one implicit transaction: all of them take effect, or none. */
  batch<Row = Record<string, unknown>>(statements: D1PreparedStatement[]): Promise<D1Result<Row>[]>;
}
