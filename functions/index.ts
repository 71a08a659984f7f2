import { Hono } from "hono";
import type { AppEnv } from "./env";
import { v1Api } from "./api";
import { ApiError, handleError } from "./middleware/errors";
import { mlflowApi } from "./mlflow";
import { readCors, securityHeaders, writeRateLimit } from "./middleware/security";
import { openDb, type RowCounter } from "./store/db";

/** The MLflow version whose REST API this Worker speaks (the client checks /version). */
const MLFLOW_VERSION = "2.17.2";

const app = new Hono<AppEnv>();

app.use("*", securityHeaders);
app.use("*", readCors);
app.use("*", writeRateLimit);
app.use("*", async (c, next) => {
  const rows: RowCounter = { rowsRead: 0, rowsWritten: 0 };
  c.set("db", openDb(c.env.DB, rows));
  await next();
  // D1 rows (what D1 bills) of the statements run through run/all/batch; the benchmarks read it.
  c.res.headers.append("Server-Timing", `d1;desc="rows_read=${rows.rowsRead} rows_written=${rows.rowsWritten}"`);
});

app.get("/health", (c) => c.text("OK"));
app.get("/version", (c) => c.text(MLFLOW_VERSION));
app.route("/api/2.0/mlflow", mlflowApi);
app.route("/ajax-api/2.0/mlflow", mlflowApi);
app.route("/api/v1", v1Api);

app.notFound((c) => {
  throw new ApiError("ENDPOINT_NOT_FOUND", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`);
});
app.onError(handleError);

export default app;
