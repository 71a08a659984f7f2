/**
 * The migrated D1 schema against functions/db/schema.ts where drizzle-kit cannot see it: `metrics`
 * is WITHOUT ROWID (the custom migration drizzle/0001_metrics_without_rowid.sql; drizzle-kit's
 * snapshot believes it is a rowid table), and the tables have exactly the columns drizzle declares,
 * which the inserts built from getTableColumns rely on.
 */
import { env } from "cloudflare:workers";
import { getTableColumns, getTableName, is } from "drizzle-orm";
import { SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as schema from "../../functions/db/schema";

const tables = Object.values(schema).filter((value) => is(value, SQLiteTable));

async function createSql(table: string): Promise<string> {
  const row = await env.DB.prepare("select sql from sqlite_master where type = 'table' and name = ?").bind(table).first<{ sql: string }>();
  return row!.sql;
}

describe("migrated schema", () => {
  it("stores metrics WITHOUT ROWID: one B-tree on the primary key, no rowid", async () => {
    expect(await createSql("metrics")).toMatch(/\)\s*WITHOUT ROWID\s*$/i);
    await expect(env.DB.prepare("select rowid from metrics").all()).rejects.toThrow(/no such column: rowid/);
  });

  it("keeps latest_metrics a rowid table: its rowid is the order in which keys were first logged", async () => {
    expect(await createSql("latest_metrics")).not.toMatch(/WITHOUT ROWID/i);
    await expect(env.DB.prepare("select rowid from latest_metrics").all()).resolves.toBeDefined();
  });

  it("has, for every drizzle table, exactly the columns drizzle declares", async () => {
    expect(tables.map((t) => getTableName(t)).sort()).toEqual([
      "api_tokens",
      "artifacts",
      "datasets",
      "experiment_tags",
      "experiments",
      "input_tags",
      "inputs",
      "latest_metrics",
      "metrics",
      "params",
      "runs",
      "site_state",
      "tags",
    ]);
    for (const table of tables) {
      const { results } = await env.DB.prepare("select name from pragma_table_info(?) order by cid").bind(getTableName(table)).all<{ name: string }>();
      expect(
        results.map((r) => r.name),
        getTableName(table),
      ).toEqual(Object.values(getTableColumns(table)).map((c) => c.name));
    }
  });
});
