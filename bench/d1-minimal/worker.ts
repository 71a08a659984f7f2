// POST /api/log-batch: the body parsed and handed to the store's logBatch (the tracker's own write:
// MLflow's batch rules, the run guard and the points in one D1 batch), with no Hono, no token, no
// zod and no Server-Timing. POST /api/parse: the body parsed, nothing written. Anything else: "OK".
import { openDb } from "../../functions/store/db";
import { type LogBatchInput, logBatch } from "../../functions/store/log-batch";

export default {
  async fetch(request, env) {
    if (request.method !== "POST") return new Response("OK");
    const body = await request.json<LogBatchInput & { run_id: string }>();
    if (new URL(request.url).pathname === "/api/log-batch") await logBatch(openDb(env.DB), body.run_id, body);
    return new Response("{}");
  },
} satisfies ExportedHandler<Pick<Env, "DB">>;
