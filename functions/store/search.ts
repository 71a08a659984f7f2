/**
 * runs/search: the parsed filter and order_by AST turned into SQL with every value bound.
 *
 * Ranking is a query for the page's run ids only; params, tags and latest metrics are then read
 * for that page alone, in one batch. When the first order key is a metric the ranking walks
 * latest_metrics_key_value_idx in index order (runs joined by primary key, LIMIT), so a
 * leaderboard over 100,000 runs reads about one index entry and one run per result. MLflow puts
 * NaN values after numbers and runs without the metric last; those are the later "segments".
 */
import { type AnyColumn, type SQL, sql } from "drizzle-orm";
import { latestMetrics, params, runs, tags } from "../db/schema";
import { excerpt } from "../domain/excerpt";
import type { Db } from "../env";
import { invalidParameter } from "../errors";
import type { RunSearchCursor } from "../search/cursor-token";
import type { Clause, Comparison, OrderKey, StringOp } from "../search/filter";
import { type DatasetInput, inputQueries, inputsFrom } from "./inputs";
import type { RunRow } from "./runs";
import { rowCounts, runAtomically } from "./sql";

export type ViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";

export interface RunSearch {
  experimentIds: number[];
  filter: Clause[];
  orderBy: OrderKey[];
  viewType: ViewType;
  maxResults: number;
  /** The page token's position: start after this run (of this segment), else at the start. */
  after?: RunSearchCursor;
}

/** D1 refuses LIKE/GLOB patterns longer than this many bytes. */
const MAX_PATTERN_BYTES = 50;
/** Keep a statement well under D1's 100 bound parameters (a clause binds at most 2, an order key 1). */
const MAX_CLAUSES = 30;
const MAX_ORDER_KEYS = 10;

const RUN_COLUMNS: Record<string, SQL> = {
  run_id: sql.raw("r.run_uuid"),
  run_name: sql.raw("r.name"),
  status: sql.raw("r.status"),
  user_id: sql.raw("r.user_id"),
  artifact_uri: sql.raw("r.artifact_uri"),
  lifecycle_stage: sql.raw("r.lifecycle_stage"),
  start_time: sql.raw("r.start_time"),
  end_time: sql.raw("r.end_time"),
};

/**
 * SQLite's LIKE and GLOB read text only up to its first NUL (a value "a\0b" matched as "a", a
 * pattern "%\0x" as "%"). So a value holding a NUL is matched in a NUL-free spelling: json_quote
 * escapes the NUL and the escapes are decoded back to one character each, the NUL becoming
 * U+110000, a code point (past Unicode) that no stored text holds; a pattern's NUL becomes it too.
 */
const NUL_STANDIN = sql.raw("cast(x'F4908080' as text)");
/** U+110001: where json_quote's escaped backslashes wait while the other escapes are decoded. */
const BACKSLASH_STANDIN = sql.raw("cast(x'F4908081' as text)");
const SHORT_ESCAPES: Record<number, string> = { 8: "b", 9: "t", 10: "n", 12: "f", 13: "r" };
/** json_quote's escapes other than `\\`, each with the SQL of the character it stands for. */
const JSON_ESCAPES: Array<[string, SQL]> = [
  ['\\"', sql.raw(`'"'`)],
  ...Array.from({ length: 32 }, (_, code): [string, SQL] => [`\\${SHORT_ESCAPES[code] ?? `u${code.toString(16).padStart(4, "0")}`}`, code === 0 ? NUL_STANDIN : sql.raw(`char(${code})`)]),
];
const hasNul = (column: SQL) => sql`instr(${column}, char(0)) > 0`;

function nulFreeText(column: SQL): SQL {
  const quoted = sql`json_quote(${column})`;
  let text = sql`replace(substr(${quoted}, 2, length(${quoted}) - 2), '\\\\', ${BACKSLASH_STANDIN})`;
  for (const [escaped, char] of JSON_ESCAPES) text = sql`replace(${text}, ${sql.raw(`'${escaped}'`)}, ${char})`;
  return sql`replace(${text}, ${BACKSLASH_STANDIN}, '\\')`;
}

/** D1 counts a pattern's bytes as matched, where a NUL stand-in takes 4. */
function boundedPattern(pattern: string): string {
  const bytes = new TextEncoder().encode(pattern).length + 3 * (pattern.split("\0").length - 1);
  if (bytes > MAX_PATTERN_BYTES) {
    throw invalidParameter(`LIKE and ILIKE patterns may be at most ${MAX_PATTERN_BYTES} bytes long. Got '${excerpt(pattern)}'.`);
  }
  return pattern;
}

/** MLflow's LIKE is case-sensitive, SQLite's is not: translate it to GLOB (`%` -> `*`, `_` -> `?`). */
function likeToGlob(pattern: string): string {
  return pattern
    .replace(/[*?[]/g, (c) => `[${c}]`)
    .replace(/%/g, "*")
    .replace(/_/g, "?");
}

/**
 * `column <operator> pattern`, exact for NUL on either side. A pattern's NUL is a literal, so it
 * only matches values holding a NUL. A GLOB with a literal prefix keeps a bare `column glob
 * 'prefix*'` term, which SQLite answers from an index (a value's part before its first NUL starts
 * with that prefix whenever the value does).
 */
function matchPattern(column: SQL, operator: "glob" | "like", pattern: string): SQL {
  const op = sql.raw(operator);
  boundedPattern(pattern);
  if (pattern.includes("\0")) {
    const spelled = sql.join(
      pattern.split("\0").map((part) => sql`${part}`),
      sql` || ${NUL_STANDIN} || `,
    );
    return sql`(${hasNul(column)} and ${nulFreeText(column)} ${op} ${spelled})`;
  }
  const exact = sql`(case when ${hasNul(column)} then ${nulFreeText(column)} ${op} ${pattern} else ${column} ${op} ${pattern} end)`;
  const prefix = operator === "glob" ? pattern.slice(0, pattern.search(/[*?[]|$/)) : "";
  return prefix === "" || prefix === pattern ? exact : sql`${column} glob ${`${prefix}*`} and ${exact}`;
}

function compareText(column: SQL, op: StringOp, value: string): SQL {
  switch (op) {
    case "=":
      return sql`${column} = ${value}`;
    case "!=":
      return sql`${column} != ${value}`;
    case "LIKE":
      return matchPattern(column, "glob", likeToGlob(value));
    case "ILIKE":
      return matchPattern(column, "like", value);
  }
}

/** A column compared as a clause says; the operator comes from a fixed list, the value is bound. */
export function compare(column: SQL, comparison: Comparison): SQL {
  if (comparison.op === "IN") return sql`${column} in (select value from json_each(${JSON.stringify(comparison.value)}))`;
  if (comparison.op === "NOT IN") return sql`${column} not in (select value from json_each(${JSON.stringify(comparison.value)}))`;
  if (typeof comparison.value === "number") return sql`${column} ${sql.raw(comparison.op)} ${comparison.value}`;
  return compareText(column, comparison.op as StringOp, comparison.value as string);
}

export function checkQuerySize(clauses: Clause[], orderBy: OrderKey[]): void {
  if (clauses.length > MAX_CLAUSES) throw invalidParameter(`A filter may have at most ${MAX_CLAUSES} clauses. Got ${clauses.length}.`);
  if (orderBy.length > MAX_ORDER_KEYS) throw invalidParameter(`order_by may have at most ${MAX_ORDER_KEYS} keys. Got ${orderBy.length}.`);
}

/** A run lacking the clause's key never matches, not even `!=`. NaN metrics never match either. */
function runClause(clause: Clause): SQL {
  switch (clause.entity) {
    case "metric":
      return sql`exists (select 1 from latest_metrics m where m.run_uuid = r.run_uuid and m.key = ${clause.key} and m.is_nan = 0 and ${compare(sql.raw("m.value"), clause)})`;
    case "param":
      return sql`exists (select 1 from params p where p.run_uuid = r.run_uuid and p.key = ${clause.key} and ${compare(sql.raw("p.value"), clause)})`;
    case "tag":
      return sql`exists (select 1 from tags t where t.run_uuid = r.run_uuid and t.key = ${clause.key} and ${compare(sql.raw("t.value"), clause)})`;
    case "attribute":
      return compare(RUN_COLUMNS[clause.key], clause);
  }
}

const direction = (ascending: boolean) => sql.raw(ascending ? "asc" : "desc");

/** One ORDER BY term: an expression and its direction. */
interface Term {
  expr: SQL;
  ascending: boolean;
}

/** ORDER BY terms of one key (missing values last, whatever the direction) and the join it needs. */
function orderTerms(key: OrderKey, index: number): { join?: SQL; terms: Term[] } {
  if (key.entity === "attribute") {
    const column = RUN_COLUMNS[key.key];
    // Only end_time may be NULL; a NOT NULL column alone keeps its index usable (runs_experiment_start_idx).
    const missingLast: Term[] = key.key === "end_time" ? [{ expr: sql`(${column} is null)`, ascending: true }] : [];
    return { terms: [...missingLast, { expr: column, ascending: key.ascending }] };
  }
  const alias = sql.raw(`o${index}`);
  const table = sql.raw(key.entity === "metric" ? "latest_metrics" : key.entity === "param" ? "params" : "tags");
  const join = sql`left join ${table} ${alias} on ${alias}.run_uuid = r.run_uuid and ${alias}.key = ${key.key}`;
  const missingLast = key.entity === "metric" ? sql`(case when ${alias}.is_nan then 1 when ${alias}.run_uuid is null then 2 else 0 end)` : sql`(${alias}.value is null)`;
  return {
    join,
    terms: [
      { expr: missingLast, ascending: true },
      { expr: sql`${alias}.value`, ascending: key.ascending },
    ],
  };
}

/** One ordered slice of the result: every run of a segment sorts before every run of the next. */
interface Segment {
  from: SQL;
  where: SQL[];
  /** The whole order, ending with run_uuid: no two runs tie, so a run's terms are a cursor. */
  orderBy: Term[];
  /** The same terms computed for any one run (`r`), whichever segment holds it now. */
  cursorFrom: SQL;
  /** Set when the segment is ranked by `lm.value` alone, then start_time DESC, run_uuid (see readByIndex). */
  valueOrder?: { ascending: boolean };
}

/** A `params.k = 'v'` or `tags.k = 'v'` clause: answered from its table's (key, value, run_uuid) index. */
const isIndexedEquality = (clause: Clause) => (clause.entity === "param" || clause.entity === "tag") && clause.op === "=";

/**
 * The runs of the filter's first indexed equality: a (key, value) index range. A search with such a
 * clause starts from these runs (joined by primary key) instead of checking every run of the
 * experiment, and checks its other clauses per candidate; so put the most selective clause first.
 * (An INTERSECT of every equality's range reads more: SQLite counts its temporary B-tree's rows too.)
 */
function indexedDriver(filter: Clause[]): { candidates: SQL; driver: Clause } | undefined {
  const driver = filter.find(isIndexedEquality);
  if (!driver) return undefined;
  const table = sql.raw(driver.entity === "param" ? "params" : "tags");
  return { candidates: sql`select run_uuid from ${table} where key = ${driver.key} and value = ${driver.value as string}`, driver };
}

function segments(search: RunSearch): Segment[] {
  const scope = [
    search.experimentIds.length === 1 ? sql`r.experiment_id = ${search.experimentIds[0]}` : sql`r.experiment_id in (select value from json_each(${JSON.stringify(search.experimentIds)}))`,
    ...(search.viewType === "ALL" ? [] : [sql`r.lifecycle_stage = ${search.viewType === "ACTIVE_ONLY" ? "active" : "deleted"}`]),
  ];
  const where = [...scope, ...search.filter.map(runClause)];
  const driven = indexedDriver(search.filter);
  // Started from the candidates, the driving clause holds already; the others are checked per run.
  const candidateWhere = [...scope, ...search.filter.filter((clause) => clause !== driven?.driver).map(runClause)];
  const [first, ...rest] = search.orderBy;
  const byMetric = first?.entity === "metric";
  const later = (byMetric ? rest : search.orderBy).map((key, i) => orderTerms(key, i));
  const joins = sql.join(
    later.flatMap((t) => (t.join ? [t.join] : [])),
    sql` `,
  );
  const sortsByStart = search.orderBy.some((k) => k.entity === "attribute" && k.key === "start_time");
  const tieBreak: Term[] = [...(sortsByStart ? [] : [{ expr: RUN_COLUMNS.start_time, ascending: false }]), { expr: RUN_COLUMNS.run_id, ascending: true }];
  const laterTerms = [...later.flatMap((t) => t.terms), ...tieBreak];
  // CROSS JOIN keeps the candidates as the outer loop.
  const allRuns = driven ? sql`(${driven.candidates}) c cross join runs r on r.run_uuid = c.run_uuid ${joins}` : sql`runs r ${joins}`;
  const allWhere = driven ? candidateWhere : where;
  if (!byMetric) return [{ from: allRuns, where: allWhere, orderBy: laterTerms, cursorFrom: sql`runs r ${joins}` }];
  // CROSS JOIN keeps latest_metrics as the outer loop, so SQLite walks (key, value) in index order.
  const ranked = sql`latest_metrics lm cross join runs r on r.run_uuid = lm.run_uuid ${joins}`;
  const cursorFrom = sql`runs r left join latest_metrics lm on lm.run_uuid = r.run_uuid and lm.key = ${first.key} ${joins}`;
  return [
    {
      from: ranked,
      where: [sql`lm.key = ${first.key}`, sql`lm.is_nan = 0`, ...where],
      orderBy: [{ expr: sql`lm.value`, ascending: first.ascending }, ...laterTerms],
      cursorFrom,
      ...(rest.length === 0 && { valueOrder: { ascending: first.ascending } }),
    },
    // NaN is stored as value 0 (see metric-values.ts), so this is a narrow range of the same index.
    { from: ranked, where: [sql`lm.key = ${first.key}`, sql`lm.value = 0`, sql`lm.is_nan = 1`, ...where], orderBy: laterTerms, cursorFrom },
    {
      from: allRuns,
      where: [sql`not exists (select 1 from latest_metrics m where m.run_uuid = r.run_uuid and m.key = ${first.key})`, ...allWhere],
      orderBy: laterTerms,
      cursorFrom,
    },
  ];
}

const cursorKey = (i: number) => sql.raw(`(select k${i} from cursor)`);

/**
 * The runs after the cursor run in the segment's order: (t0 > k0) or (t0 = k0 and t1 > k1) or ...,
 * every term compared with the cursor run's own value of it (`is`: NULLs are equal). The first term
 * is never NULL, so its bound alone is repeated where SQLite can take it as an index range.
 */
function afterCursor(terms: Term[]): SQL[] {
  const beyond = (t: Term, i: number) => sql`${t.expr} ${sql.raw(t.ascending ? ">" : "<")} ${cursorKey(i)}`;
  const alternatives = terms.map((term, i) => sql.join([...terms.slice(0, i).map((t, j) => sql`${t.expr} is ${cursorKey(j)}`), beyond(term, i)], sql` and `));
  return [sql`${terms[0].expr} ${sql.raw(terms[0].ascending ? ">=" : "<=")} ${cursorKey(0)}`, sql`(${sql.join(alternatives, sql` or `)})`];
}

/** The segment's rows from its start, or after the cursor run; each row carries its terms as k0, k1, ... */
async function selectRows<T>(db: Db, segment: Segment, orderBy: Term[], limit: number, after: string | undefined) {
  const keys = sql.join(
    segment.orderBy.map((t, i) => sql`${t.expr} as ${sql.raw(`k${i}`)}`),
    sql`, `,
  );
  const cursor = after === undefined ? sql`` : sql`with cursor as (select ${keys} from ${segment.cursorFrom} where r.run_uuid = ${after}) `;
  const where = [...segment.where, ...(after === undefined ? [] : afterCursor(segment.orderBy))];
  const [result] = await runAtomically(db, [
    sql`${cursor}select r.run_uuid as run_uuid, ${keys} from ${segment.from} where ${sql.join(where, sql` and `)}
      order by ${sql.join(
        orderBy.map((t) => sql`${t.expr} ${direction(t.ascending)}`),
        sql`, `,
      )} limit ${limit}`,
  ]);
  return { rows: result.results as T[], rowsRead: rowCounts([result]).rowsRead };
}

async function readSegment(db: Db, segment: Segment, limit: number, after: string | undefined): Promise<{ ids: string[]; rowsRead: number }> {
  let rowsRead = 0;
  if (segment.valueOrder) {
    const page = await readByIndex(db, segment, segment.valueOrder.ascending, limit, after);
    if (page.ids) return page as { ids: string[]; rowsRead: number };
    rowsRead = page.rowsRead;
  }
  const exact = await selectRows<{ run_uuid: string }>(db, segment, segment.orderBy, limit, after);
  return { ids: exact.rows.map((row) => row.run_uuid), rowsRead: rowsRead + exact.rowsRead };
}

/** A row of a value-ordered segment: its terms are value, start_time, run_uuid. */
type RankedRow = { run_uuid: string; k0: number; k1: number };

/**
 * Reads a page in pure index order (value only), which SQLite streams without a sorter, so D1
 * reads about two rows per result. Ties are then ordered as MLflow does (start_time DESC, run_uuid)
 * in code. One extra row after the page tells whether a tie crosses the page's edge; only then is
 * the index order not enough: no ids send the caller to the exact query.
 */
async function readByIndex(db: Db, segment: Segment, ascending: boolean, limit: number, after: string | undefined): Promise<{ ids?: string[]; rowsRead: number }> {
  const { rows, rowsRead } = await selectRows<RankedRow>(db, segment, segment.orderBy.slice(0, 1), limit + 1, after);
  const page = rows.slice(0, limit);
  if (rows.length > limit && rows[limit].k0 === page[limit - 1].k0) return { rowsRead };
  page.sort((a, b) => (ascending ? a.k0 - b.k0 : b.k0 - a.k0) || b.k1 - a.k1 || (a.run_uuid < b.run_uuid ? -1 : a.run_uuid > b.run_uuid ? 1 : 0));
  return { ids: page.map((row) => row.run_uuid), rowsRead };
}

/**
 * The run ids of one page, in order, each with its cursor (the page token after it), and the rows
 * D1 read to rank them. Segments are read in turn, from the cursor's on; each read starts after the
 * cursor run in its order (keyset paging), so a page reads rows in proportion to what it returns
 * however deep it is.
 */
export async function rankRunIds(db: Db, search: RunSearch): Promise<{ ids: string[]; cursors: RunSearchCursor[]; rowsRead: number }> {
  checkQuerySize(search.filter, search.orderBy);
  const ids: string[] = [];
  const cursors: RunSearchCursor[] = [];
  let rowsRead = 0;
  if (search.experimentIds.length === 0 || search.maxResults === 0) return { ids, cursors, rowsRead };
  const all = segments(search);
  for (let s = search.after?.[0] ?? 0; s < all.length && ids.length < search.maxResults; s++) {
    const page = await readSegment(db, all[s], search.maxResults - ids.length, s === search.after?.[0] ? search.after[1] : undefined);
    rowsRead += page.rowsRead;
    ids.push(...page.ids);
    cursors.push(...page.ids.map((id): RunSearchCursor => [s, id]));
  }
  return { ids, cursors, rowsRead };
}

export type LatestMetricRow = typeof latestMetrics.$inferSelect;
export interface RunWithData {
  info: RunRow;
  params: Array<{ key: string; value: string }>;
  tags: Array<{ key: string; value: string }>;
  metrics: LatestMetricRow[];
  inputs: DatasetInput[];
}

/**
 * Rows of a key-value table (params, tags) for the page's runs, as JSON arrays of [rowid, key, value]
 * with up to 32 consecutive rowids each: a run's 78 params come through D1 as 3 or 4 rows instead of
 * 78, which saves most of the answer's time (every row is converted on its way through D1's object,
 * its binding and drizzle). 32 bounds a chunk to ~1.6 MB (32 maximal tag values of 8,000 control
 * characters, each escaped to 6 bytes) under D1's 2 MB for a string.
 */
function keyValueChunks(db: Db, table: typeof params | typeof tags, where: SQL) {
  return db
    .select({ runUuid: table.runUuid, pairs: sql<string>`json_group_array(json_array(rowid, ${table.key}, ${table.value}))` })
    .from(table)
    .where(where)
    .groupBy(table.runUuid, sql`rowid >> 5`);
}

/** Each run's key-values from its chunks (keyValueChunks), in insertion (rowid) order, as MLflow lists them. */
function keyValuesInOrder(chunks: Array<{ runUuid: string; pairs: string }>): Map<string, Array<{ key: string; value: string }>> {
  const byRun = new Map<string, Array<[rowid: number, key: string, value: string]>>();
  for (const { runUuid, pairs } of chunks) {
    const list = byRun.get(runUuid) ?? [];
    if (list.length === 0) byRun.set(runUuid, list);
    for (const pair of JSON.parse(pairs)) list.push(pair);
  }
  return new Map([...byRun].map(([runUuid, list]) => [runUuid, list.sort((a, b) => a[0] - b[0]).map(([, key, value]) => ({ key, value }))]));
}

/** Runs with their params, tags, latest metrics (insertion order) and dataset inputs, in the order of `ids`; one batch. */
export async function getRunsWithData(db: Db, ids: string[]): Promise<RunWithData[]> {
  if (ids.length === 0) return [];
  const idList = JSON.stringify(ids);
  const inPage = (column: AnyColumn) => sql`${column} in (select value from json_each(${idList}))`;
  const [runRows, paramRows, tagRows, metricRows, edges, inputTagRows] = await db.batch([
    db.select().from(runs).where(inPage(runs.runUuid)),
    keyValueChunks(db, params, inPage(params.runUuid)),
    keyValueChunks(db, tags, inPage(tags.runUuid)),
    db.select().from(latestMetrics).where(inPage(latestMetrics.runUuid)).orderBy(sql`rowid`),
    ...inputQueries(db, ids),
  ]);
  const inputsByRun = inputsFrom(edges, inputTagRows);
  const paramsByRun = keyValuesInOrder(paramRows);
  const tagsByRun = keyValuesInOrder(tagRows);
  const byRun = new Map(
    runRows.map((info) => {
      const run: RunWithData = { info, params: paramsByRun.get(info.runUuid) ?? [], tags: tagsByRun.get(info.runUuid) ?? [], metrics: [], inputs: inputsByRun.get(info.runUuid) ?? [] };
      return [info.runUuid, run];
    }),
  );
  for (const metric of metricRows) byRun.get(metric.runUuid)?.metrics.push(metric);
  return ids.flatMap((id) => byRun.get(id) ?? []);
}

/**
 * What one runs/search answer holds at most, whatever max_results asks (MLflow allows 50,000): the
 * ranking reads at most `maxRuns` ids, and their data is read `chunkRuns` runs at a time until the
 * keys and values reach about `maxBytes`, so that an answer fits a Worker's 128 MB (bench/scale.mjs
 * measures it). A short page still carries a next_page_token: MLflow's client follows it.
 */
export const SEARCH_PAGE = { maxRuns: 1000, chunkRuns: 250, maxBytes: 2 * 1024 * 1024 } as const;

/** About how many bytes of an answer a run's data makes. */
function dataBytes(run: RunWithData): number {
  const keyValues = [...run.params, ...run.tags].reduce((sum, kv) => sum + kv.key.length + kv.value.length + 24, 0);
  return 400 + keyValues + run.metrics.reduce((sum, m) => sum + m.key.length + 64, 0);
}

/**
 * runs/search: one page of runs with their data, the rows read by the ranking query, and, when the
 * page was cut short (by SEARCH_PAGE) or filled so that more may follow, the cursor after its last run.
 */
export async function searchRuns(db: Db, search: RunSearch): Promise<{ runs: RunWithData[]; rowsRead: number; next?: RunSearchCursor }> {
  const limit = Math.min(search.maxResults, SEARCH_PAGE.maxRuns);
  const { ids, cursors, rowsRead } = await rankRunIds(db, { ...search, maxResults: limit });
  const page: RunWithData[] = [];
  let bytes = 0;
  for (let i = 0; i < ids.length && bytes < SEARCH_PAGE.maxBytes; i += SEARCH_PAGE.chunkRuns) {
    for (const run of await getRunsWithData(db, ids.slice(i, i + SEARCH_PAGE.chunkRuns))) {
      if (bytes >= SEARCH_PAGE.maxBytes) break;
      page.push(run);
      bytes += dataBytes(run);
    }
  }
  const more = page.length > 0 && (page.length < ids.length || ids.length === limit);
  return { runs: page, rowsRead, ...(more && { next: cursors[page.length - 1] }) };
}
