/**
 * The real MLflow 2.17.2 Python client against the local Worker: it follows the next_page_token of
 * a history longer than one page (25,000 points) and of runs/search pages cut short by size, so it
 * gets every point and every run (py/paging.py).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { clientMissing, clientSuite, runPython } from "./support/mlflow.js";

describe.skipIf(clientMissing)(clientSuite("the real MLflow client, pages cut by count and by size"), () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("reads a 26,000-point history and a size-cut search to the end", async () => {
    const { json } = await runPython("paging.py", { name: "kdgat", url: server.url, token: server.adminToken }, { timeoutMs: 240_000 });
    const out = json as { history: number[]; runs: string[] };
    expect(out.history).toEqual(Array.from({ length: 26_000 }, (_, s) => s));
    // Newest first: "long" started now, the big runs at their given (2023) start times.
    expect(out.runs).toEqual(["long", ...Array.from({ length: 40 }, (_, i) => `big-${String(39 - i).padStart(2, "0")}`)]);
  }, 300_000);
});
