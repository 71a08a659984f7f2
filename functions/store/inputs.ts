/**
 * Run inputs (runs/log-inputs), as MLflow's SQL store keeps them: a dataset per experiment, name and
 * digest (the first one logged is kept), an input edge from the dataset to the run, and the input's
 * tags, written only with a new edge (logging the same dataset to a run again changes nothing).
 */
import { and, eq, sql } from "drizzle-orm";
import { datasets, inputs, inputTags } from "../db/schema";
import type { Db } from "../env";
import { newRunUuid } from "./runs";
import { insertSelect, inValues, jsonFields, runAtomically } from "./sql";

export interface Dataset {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema?: string;
  profile?: string;
}

export interface DatasetInput {
  dataset: Dataset;
  tags: Array<{ key: string; value: string }>;
}

const DATASET_FIELDS = ["datasetUuid", "name", "digest", "sourceType", "source", "schema", "profile", "inputUuid"] as const;

/** Logs datasets as inputs of a run of this experiment, all or nothing (three statements, one transaction). */
export async function logInputs(db: Db, experimentId: number, runUuid: string, datasetInputs: DatasetInput[]): Promise<void> {
  // The first of several inputs with one name and digest wins, as in MLflow.
  const first = new Map<string, DatasetInput>();
  for (const input of datasetInputs) {
    const key = JSON.stringify([input.dataset.name, input.dataset.digest]);
    if (!first.has(key)) first.set(key, input);
  }
  const entries = [...first.values()].map((input) => ({ input, datasetUuid: newRunUuid(), inputUuid: newRunUuid() }));
  if (entries.length === 0) return;
  const rows = JSON.stringify(
    entries.map(({ input: { dataset: d }, datasetUuid, inputUuid }) => [datasetUuid, d.name, d.digest, d.sourceType, d.source, d.schema ?? null, d.profile ?? null, inputUuid]),
  );
  const tagRows = JSON.stringify(entries.flatMap(({ input, inputUuid }) => input.tags.map((t) => [inputUuid, t.key, t.value])));
  const j = jsonFields(DATASET_FIELDS);
  await runAtomically(db, [
    insertSelect(
      datasets,
      { datasetUuid: j.datasetUuid, experimentId, name: j.name, digest: j.digest, sourceType: j.sourceType, source: j.source, schema: j.schema, profile: j.profile },
      sql`from json_each(${rows}) j where true on conflict (experiment_id, name, digest) do nothing`,
    ),
    insertSelect(
      inputs,
      { inputUuid: j.inputUuid, sourceType: "DATASET", sourceId: sql`d.dataset_uuid`, destinationType: "RUN", destinationId: runUuid },
      sql`from json_each(${rows}) j join ${datasets} d on d.experiment_id = ${experimentId} and d.name = ${j.name} and d.digest = ${j.digest}
        where true order by j.key on conflict do nothing`,
    ),
    insertSelect(
      inputTags,
      { inputUuid: sql.raw("j.value ->> 0"), name: sql.raw("j.value ->> 1"), value: sql.raw("j.value ->> 2") },
      sql`from json_each(${tagRows}) j where exists (select 1 from ${inputs} i where i.input_uuid = j.value ->> 0) on conflict do nothing`,
    ),
  ]);
}

/** The inputs of these runs, by run, in the order they were logged. */
export async function inputsOfRuns(db: Db, runUuids: string[]): Promise<Map<string, DatasetInput[]>> {
  if (runUuids.length === 0) return new Map();
  const [edges, tagRows] = await db.batch(inputQueries(db, runUuids));
  return inputsFrom(edges, tagRows);
}

/** The two queries of these runs' dataset inputs (edges with their datasets, then the edges' tags), for one batch. */
export function inputQueries(db: Db, runUuids: string[]) {
  const ofRuns = and(eq(inputs.destinationType, "RUN"), inValues(inputs.destinationId, runUuids));
  return [
    db
      .select({ runUuid: inputs.destinationId, inputUuid: inputs.inputUuid, dataset: datasets })
      .from(inputs)
      .innerJoin(datasets, eq(datasets.datasetUuid, inputs.sourceId))
      .where(ofRuns)
      .orderBy(sql`${inputs}.rowid`),
    db
      .select({ inputUuid: inputTags.inputUuid, name: inputTags.name, value: inputTags.value })
      .from(inputTags)
      .where(sql`${inputTags.inputUuid} in (select ${inputs.inputUuid} from ${inputs} where ${ofRuns})`)
      .orderBy(sql`${inputTags}.rowid`),
  ] as const;
}

type InputEdge = Awaited<ReturnType<typeof inputQueries>[0]>[number];
type InputTag = Awaited<ReturnType<typeof inputQueries>[1]>[number];

/** The inputs of each run, from what inputQueries read. */
export function inputsFrom(edges: InputEdge[], tagRows: InputTag[]): Map<string, DatasetInput[]> {
  const byRun = new Map<string, DatasetInput[]>();
  for (const edge of edges) {
    const { name, digest, sourceType, source, schema, profile } = edge.dataset;
    const tags = tagRows.filter((t) => t.inputUuid === edge.inputUuid).map((t) => ({ key: t.name, value: t.value }));
    const list = byRun.get(edge.runUuid) ?? [];
    if (list.length === 0) byRun.set(edge.runUuid, list);
    list.push({ dataset: { name, digest, sourceType, source, ...(schema !== null && { schema }), ...(profile !== null && { profile }) }, tags });
  }
  return byRun;
}
