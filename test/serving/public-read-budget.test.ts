/**
 * The local server enforces the anonymous read budget as production does (one shared address
 * locally), and takes another budget when asked (the benchmarks read far more than a minute's worth).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

const BUDGET = 3;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ publicReadLimit: BUDGET });
});

afterAll(async () => {
  await server?.stop();
});

it("answers 429 with Retry-After once the anonymous reads pass the budget it was started with", async () => {
  const statuses: number[] = [];
  for (let i = 0; i <= BUDGET; i++) statuses.push((await server.call("GET", "/api/v1/summary")).status);
  // The start-up probe of /health is a read too: the budget may be partly spent already.
  expect(statuses[0]).toBe(200);
  expect(statuses.at(-1)).toBe(429);
  const refused = await server.call("GET", "/api/v1/summary");
  expect(refused.headers.get("Retry-After")).toBe("60");
  expect(refused.json).toMatchObject({ error_code: "REQUEST_LIMIT_EXCEEDED" });
});
