import { type Column, getTableColumns, type InferSelectModel, is, SQL, sql, type Table } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Db } from "../env";

/** A drizzle query builder or an `sql` template. */
export type Statement = SQL | { toSQL(): { sql: string; params: unknown[] } };

const dialect = new SQLiteAsyncDialect();

/** A statement's SQL text and bound values, as D1 gets them. */
export function toQuery(statement: Statement): { sql: string; params: unknown[] } {
  return is(statement, SQL) ? dialect.sqlToQuery(statement) : statement.toSQL();
}

function toD1(db: Db, statement: Statement): D1PreparedStatement {
  const query = toQuery(statement);
  return db.$client.prepare(query.sql).bind(...query.params);
}

/**
 * Runs statements as one D1 batch: one transaction, all or nothing. (drizzle's own batch cannot take
 * raw `sql` statements with bound values, which the JSON-array bulk writes need:
 * https://github.com/drizzle-team/drizzle-orm/issues/2277.) Returns D1's results, whose meta
 * carries rows_read and rows_written.
 */
export async function runAtomically(db: Db, statements: Statement[]): Promise<D1Result[]> {
  if (statements.length === 0) return [];
  return db.$client.batch(statements.map((s) => toD1(db, s)));
}

/** Sums D1's row counters over a batch (reported by benchmarks and tests). */
export function rowCounts(results: D1Result[]): { rowsRead: number; rowsWritten: number } {
  return results.reduce((sum, r) => ({ rowsRead: sum.rowsRead + (r.meta.rows_read ?? 0), rowsWritten: sum.rowsWritten + (r.meta.rows_written ?? 0) }), { rowsRead: 0, rowsWritten: 0 });
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

/** A table's column properties (drizzle's names: `runUuid`, not `run_uuid`). */
export type ColumnOf<T extends Table> = keyof T["_"]["columns"] & string;

/**
 * `insert [or ignore] into <table> (<columns>) select <values> <rest>`, each column named by its
 * drizzle property next to the expression it takes, so no statement re-spells the schema.
 * The bulk writes stay INSERT ... SELECT over json_each: one bound JSON array carries thousands of
 * rows, where a VALUES list would pass D1's cap of 100 bound values per statement
 * (https://github.com/drizzle-team/drizzle-orm/issues/2479); a few also guard or upsert in the
 * same statement (`where`, `on conflict`), which `rest` carries.
 */
export function insertSelect<T extends Table>(table: T, values: Partial<Record<ColumnOf<T>, SQL | string | number | null>>, rest: SQL, conflict: "abort" | "ignore" = "abort"): SQL {
  const columns: Record<string, Column> = getTableColumns(table);
  const entries = Object.entries(values) as Array<[string, SQL | string | number | null]>;
  const names = sql.join(
    entries.map(([property]) => sql.identifier(columns[property].name)),
    sql`, `,
  );
  const selected = sql.join(
    entries.map(([, value]) => (is(value, SQL) ? value : sql`${value}`)),
    sql`, `,
  );
  return sql`insert ${sql.raw(conflict === "ignore" ? "or ignore " : "")}into ${table} (${names}) select ${selected} ${rest}`;
}

/** The fields of json_each's row `j` by position, for rows serialised as arrays in `properties` order. */
export function jsonFields<P extends string>(properties: readonly P[]): Record<P, SQL> {
  return Object.fromEntries(properties.map((property, i) => [property, sql.raw(`j.value ->> ${i}`)])) as Record<P, SQL>;
}

/** `column in (values)` with the values bound as one JSON array (D1 allows 100 bound values a statement). */
export const inValues = (column: SQL | Column, values: ReadonlyArray<string | number>) => sql`${column} in (select value from json_each(${JSON.stringify(values)}))`;
