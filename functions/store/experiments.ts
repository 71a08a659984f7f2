/** Experiments and their tags, with MLflow's rules for names, lifecycle and search. */
import { and, eq, type SQL, sql } from "drizzle-orm";
import { DEFAULT_EXPERIMENT_ID, experiments, experimentTags, nowMs, runs } from "../db/schema";
import { excerpt } from "../domain/excerpt";
import { LIMITS } from "../domain/limits";
import type { Db } from "../env";
import { alreadyExists, invalidParameter, notFound } from "../errors";
import type { Clause, OrderKey } from "../search/filter";
import { KEY_VALUE, type KeyValue, pairsJson, validateKeyValue } from "./key-values";
import { checkQuerySize, compare, type ViewType } from "./search";
import { siteChanged } from "./site-state";
import { insertSelect, jsonFields, runAtomically, type Statement } from "./sql";

export type ExperimentRow = typeof experiments.$inferSelect;
export interface ExperimentWithTags extends ExperimentRow {
  tags: KeyValue[];
}

/** Where an experiment's artifacts would live (artifacts themselves are out of scope). */
const artifactLocation = sql`'mlflow-artifacts:/' || ${experiments.experimentId}`;

/** Runs writes that may collide on the unique experiment name, answering MLflow's error. */
async function writeNamed(db: Db, name: string, statements: Statement[]): Promise<void> {
  try {
    await runAtomically(db, statements);
  } catch (error) {
    if (String((error as Error)?.message).includes("UNIQUE constraint failed: experiments.name")) {
      throw alreadyExists(`Experiment(name=${excerpt(name)}) already exists.`);
    }
    throw error;
  }
}

function tagUpserts(experimentId: SQL | number, tagList: KeyValue[]): Statement[] {
  if (tagList.length === 0) return [];
  return [
    insertSelect(
      experimentTags,
      { experimentId, ...jsonFields(KEY_VALUE) },
      sql`from json_each(${pairsJson(tagList)}) j where true
      on conflict (experiment_id, key) do update set value = excluded.value`,
    ),
  ];
}

/**
 * The statements that create an experiment of this name (its artifact location derives from the id
 * it gets); with `ifMissing`, they leave an existing one as it is instead of failing.
 */
function experimentInsert(db: Db, name: string, ifMissing = false): Statement[] {
  const insert = db.insert(experiments).values({ name, artifactLocation: "", lifecycleStage: "active", creationTime: nowMs, lastUpdateTime: nowMs });
  return [
    ifMissing ? insert.onConflictDoNothing({ target: experiments.name }) : insert,
    db
      .update(experiments)
      .set({ artifactLocation })
      .where(and(eq(experiments.name, name), eq(experiments.artifactLocation, ""))),
  ];
}

/** Statements that create the experiment of this name when it is missing, for a batch that then writes into it. */
export const experimentIfMissing = (db: Db, name: string): Statement[] => experimentInsert(db, name, true);

/** Creates an experiment with its tags in one transaction; returns its id. */
export async function createExperiment(db: Db, name: string, tagList: KeyValue[]): Promise<number> {
  for (const tag of tagList) validateKeyValue("tag", tag, LIMITS.maxTagValueLength);
  const idOfName = sql`(select experiment_id from experiments where name = ${name})`;
  await writeNamed(db, name, [...experimentInsert(db, name), ...tagUpserts(idOfName, tagList)]);
  const row = await db.select({ id: experiments.experimentId }).from(experiments).where(eq(experiments.name, name)).get();
  return row!.id;
}

async function withTags(db: Db, rows: ExperimentRow[]): Promise<ExperimentWithTags[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.experimentId);
  const tagRows = await db
    .select()
    .from(experimentTags)
    .where(sql`${experimentTags.experimentId} in (select value from json_each(${JSON.stringify(ids)}))`)
    .orderBy(sql`rowid`);
  return rows.map((row) => ({
    ...row,
    tags: tagRows.filter((t) => t.experimentId === row.experimentId).map(({ key, value }) => ({ key, value })),
  }));
}

/** Experiment ids are decimal strings on the wire; anything else names no experiment. */
export function parseExperimentId(id: string): number | undefined {
  return /^\d{1,15}$/.test(id) ? Number(id) : undefined;
}

export async function getExperiment(db: Db, experimentId: string): Promise<ExperimentWithTags> {
  const id = parseExperimentId(experimentId);
  const row = id === undefined ? undefined : await db.select().from(experiments).where(eq(experiments.experimentId, id)).get();
  if (!row) throw notFound(`No Experiment with id=${experimentId} exists`);
  return (await withTags(db, [row]))[0];
}

export async function getExperimentByName(db: Db, name: string): Promise<ExperimentWithTags> {
  const row = await db.select().from(experiments).where(eq(experiments.name, name)).get();
  if (!row) throw notFound(`Could not find experiment with name '${excerpt(name)}'`);
  return (await withTags(db, [row]))[0];
}

async function getActiveExperiment(db: Db, experimentId: string): Promise<ExperimentWithTags> {
  const experiment = await getExperiment(db, experimentId);
  if (experiment.lifecycleStage !== "active") {
    throw invalidParameter(`The experiment ${experimentId} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`);
  }
  return experiment;
}

export async function renameExperiment(db: Db, experimentId: string, newName: string): Promise<void> {
  const experiment = await getExperiment(db, experimentId);
  if (experiment.lifecycleStage !== "active") throw invalidParameter("Cannot rename a non-active experiment.");
  await writeNamed(db, newName, [db.update(experiments).set({ name: newName, lastUpdateTime: nowMs }).where(eq(experiments.experimentId, experiment.experimentId))]);
}

/**
 * Soft-deletes or restores an experiment and, as MLflow's SQL store does, all of its runs.
 * The Default experiment cannot be deleted.
 */
export async function setExperimentLifecycle(db: Db, experimentId: string, stage: "active" | "deleted"): Promise<void> {
  const experiment = await getExperiment(db, experimentId);
  if (stage === "deleted" && experiment.experimentId === DEFAULT_EXPERIMENT_ID) {
    throw invalidParameter(`Cannot delete the default experiment '${DEFAULT_EXPERIMENT_ID}'. This is a reserved experiment.`);
  }
  if (stage === "active" && experiment.lifecycleStage === "active") return;
  if (stage === "deleted" && experiment.lifecycleStage === "deleted") {
    throw invalidParameter(`The experiment ${experimentId} must be in the 'active' state. Current state is deleted.`);
  }
  await runAtomically(db, [
    db.update(experiments).set({ lifecycleStage: stage, lastUpdateTime: nowMs }).where(eq(experiments.experimentId, experiment.experimentId)),
    db
      .update(runs)
      .set({ lifecycleStage: stage, deletedTime: stage === "deleted" ? nowMs : null })
      .where(eq(runs.experimentId, experiment.experimentId)),
    siteChanged(db),
  ]);
}

export async function setExperimentTag(db: Db, experimentId: string, tag: KeyValue): Promise<void> {
  validateKeyValue("tag", tag, LIMITS.maxTagValueLength);
  const experiment = await getActiveExperiment(db, experimentId);
  await runAtomically(db, tagUpserts(experiment.experimentId, [tag]));
}

export interface ExperimentSearch {
  filter: Clause[];
  orderBy: OrderKey[];
  viewType: ViewType;
  maxResults: number;
  offset: number;
}

const EXPERIMENT_COLUMNS: Record<string, SQL> = {
  name: sql.raw("e.name"),
  creation_time: sql.raw("e.creation_time"),
  last_update_time: sql.raw("e.last_update_time"),
  experiment_id: sql.raw("e.experiment_id"),
};

function experimentClause(clause: Clause): SQL {
  if (clause.entity === "tag") {
    return sql`exists (select 1 from experiment_tags t where t.experiment_id = e.experiment_id and t.key = ${clause.key} and ${compare(sql.raw("t.value"), clause)})`;
  }
  return compare(EXPERIMENT_COLUMNS[clause.key], clause);
}

/** experiments/search: default order creation_time DESC; ties always break on experiment_id ASC. */
export async function searchExperiments(db: Db, search: ExperimentSearch): Promise<ExperimentWithTags[]> {
  checkQuerySize(search.filter, search.orderBy);
  const where = [...(search.viewType === "ALL" ? [] : [sql`e.lifecycle_stage = ${search.viewType === "ACTIVE_ONLY" ? "active" : "deleted"}`]), ...search.filter.map(experimentClause)];
  const orderBy: OrderKey[] = search.orderBy.length ? search.orderBy : [{ entity: "attribute", key: "creation_time", ascending: false }];
  const terms = orderBy.map((k) => sql`${EXPERIMENT_COLUMNS[k.key]} ${sql.raw(k.ascending ? "asc" : "desc")}`);
  if (!orderBy.some((k) => k.key === "experiment_id")) terms.push(sql`e.experiment_id asc`);
  const [result] = await runAtomically(db, [
    sql`select e.experiment_id as id from experiments e ${where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``}
      order by ${sql.join(terms, sql`, `)} limit ${search.maxResults} offset ${search.offset}`,
  ]);
  const ids = (result.results as Array<{ id: number }>).map((row) => row.id);
  if (ids.length === 0) return [];
  const rows = await db
    .select()
    .from(experiments)
    .where(sql`${experiments.experimentId} in (select value from json_each(${JSON.stringify(ids)}))`);
  const byId = new Map(rows.map((row) => [row.experimentId, row]));
  return withTags(
    db,
    ids.map((id) => byId.get(id)!),
  );
}
