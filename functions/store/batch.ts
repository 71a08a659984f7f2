import { getTableColumns, is, SQL, type InferSelectModel, type Table } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Db } from "../env";

/** A drizzle query builder or an `sql` template. */
export type Statement = SQL | { toSQL(): { sql: string; params: unknown[] } };

const dialect = new SQLiteAsyncDialect();

function toD1(db: Db, statement: Statement): D1PreparedStatement {
  const query = is(statement, SQL) ? dialect.sqlToQuery(statement) : statement.toSQL();
  return db.$client.prepare(query.sql).bind(...query.params);
}

/**
 * Runs statements as one D1 batch: one transaction, all or nothing. (drizzle's own batch cannot take
 * raw `sql` statements with bound values, which the JSON-array bulk writes need.) Returns D1's
 * results, whose meta carries rows_read and rows_written.
 */
export async function runAtomically(db: Db, statements: Statement[]): Promise<D1Result[]> {
  if (statements.length === 0) return [];
  return db.$client.batch(statements.map((s) => toD1(db, s)));
}

/** Sums D1's row counters over a batch (reported by benchmarks and tests). */
export function rowCounts(results: D1Result[]): { rowsRead: number; rowsWritten: number } {
  return results.reduce(
    (sum, r) => ({ rowsRead: sum.rowsRead + (r.meta.rows_read ?? 0), rowsWritten: sum.rowsWritten + (r.meta.rows_written ?? 0) }),
    { rowsRead: 0, rowsWritten: 0 },
  );
}

/** A row of `table` from a D1 result object (column names as keys), mapped as drizzle maps it. */
export function rowFrom<T extends Table>(table: T, raw: Record<string, unknown>): InferSelectModel<T> {
  const row: Record<string, unknown> = {};
  for (const [property, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name];
    row[property] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as InferSelectModel<T>;
}
