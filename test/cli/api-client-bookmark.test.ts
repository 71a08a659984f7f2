/**
 * The CLI's HTTP client carries D1 bookmarks against the real local Worker: it keeps the newest
 * X-D1-Bookmark the tracker returned and sends it with the next request, so that a read after a
 * write sees that write even when replicas serve the reads.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { ApiClient } from "../../cli/api-client.js";
import { BOOKMARK_HEADER, BOOKMARK_SHAPE } from "../../functions/domain/index.js";
import { startTestServer, type TestServer } from "../support/server.js";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

it("sends back the newest bookmark it was given", async () => {
  const client = new ApiClient(server.url, server.adminToken);
  const kept = () => (client as unknown as { bookmark?: string }).bookmark;
  expect(kept()).toBeUndefined();
  const put = await client.request("PUT", "/api/v1/runs/bm_a/teacher_normal", { body: "{}" });
  expect(put.status).toBe(201);
  const written = put.headers.get(BOOKMARK_HEADER)!;
  expect(written).toMatch(BOOKMARK_SHAPE);
  expect(kept()).toBe(written);
  // The read carries it: its own session starts there, so its bookmark is not older.
  const read = await client.request("GET", "/api/v1/runs/bm_a/teacher_normal");
  expect(read.status).toBe(200);
  expect(read.headers.get(BOOKMARK_HEADER)! >= written).toBe(true);
  expect(kept()! >= written).toBe(true);
}, 60_000);
