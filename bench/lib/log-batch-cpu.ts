// The Worker's own work for one runs/log-batch request, without D1 and without HTTP: the same
// (Worker code run in Node: type-checked with tsconfig.json, not tsconfig.node.json.)
// functions the route runs, in its order (body text -> JSON, the body's reading (plainLogBatch, else zod), MLflow's batch rules, the guarded
// statements built and serialised to D1's SQL text and bound values, the answer's JSON). Bundled for
// Node by bench/write-speed.mjs (esbuild), which times it.
import { parseBody, parseJsonText } from "../../functions/http/validate";
import { logBatchRequest, plainLogBatch } from "../../functions/mlflow/runs";
import { writeGuard } from "../../functions/store/guard";
import { logBatchWrite, validateBatch } from "../../functions/store/log-batch";
import { toQuery } from "../../functions/store/sql";

/** Runs the pure part of one log-batch request on `body`; returns the bytes of SQL and values it would send to D1. */
export function logBatchPureWork(body: string): number {
  const { run_id, ...batch } = parseBody(logBatchRequest, parseJsonText(body), plainLogBatch);
  validateBatch(batch);
  const { guard, statements } = logBatchWrite(run_id, batch);
  let bytes = 0;
  for (const statement of [writeGuard(guard), ...statements]) {
    const query = toQuery(statement);
    bytes += query.sql.length + JSON.stringify(query.params).length;
  }
  return bytes + JSON.stringify({}).length;
}
