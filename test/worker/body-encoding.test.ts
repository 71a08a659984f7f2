/** Bodies that are not UTF-8 are refused, never stored with U+FFFD in place of the client's bytes. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call } from "./support/call";
import { dumpDatabase } from "./support/hostile";

const encoder = new TextEncoder();

/** `before` + the raw bytes + `after`, as one body. */
const withBytes = (before: string, bytes: number[], after: string) => new Uint8Array([...encoder.encode(before), ...bytes, ...encoder.encode(after)]);

const send = (method: string, path: string, body: Uint8Array, contentType = "application/json") => call(method, path, { token: ADMIN_TOKEN, body, headers: { "Content-Type": contentType } });

/** Bytes that no UTF-8 decoder accepts: a lone continuation byte, a cut sequence, an overlong form, a surrogate. */
const INVALID = [[0xff], [0x80], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]];

describe("invalid UTF-8 in a body", () => {
  it("is a 400 on MLflow routes, the v1 config PUT and metric uploads, with nothing written", async () => {
    const created = (await send("POST", "/api/2.0/mlflow/runs/create", encoder.encode('{"experiment_id": "0", "start_time": 1}'))).json;
    const mlflowRun = created.run.info.run_id;
    const v1Run = "/api/v1/runs/hcrl_sa/teacher_curriculum";
    expect((await send("PUT", v1Run, encoder.encode('{"lr": 0.1}'))).status).toBe(201);
    for (const bytes of INVALID) {
      const cases: Array<[string, string, Uint8Array, string?]> = [
        ["POST", "/api/2.0/mlflow/runs/set-tag", withBytes(`{"run_id": "${mlflowRun}", "key": "note", "value": "a`, bytes, `b"}`)],
        ["POST", "/api/2.0/mlflow/runs/log-batch", withBytes(`{"run_id": "${mlflowRun}", "params": [{"key": "p`, bytes, `", "value": "1"}]}`)],
        ["POST", "/api/2.0/mlflow/experiments/create", withBytes('{"name": "exp', bytes, '"}')],
        ["PUT", "/api/v1/runs/hcrl_sa/student_fusion", withBytes('{"name": "x', bytes, '"}')],
        ["POST", `${v1Run}/metrics`, withBytes('{"test": {"f1": 0.9, "note": "', bytes, '"}}')],
        ["POST", `${v1Run}/metrics`, withBytes("step,loss\n0,0.5\n1,0.", bytes, "4\n"), "text/csv"],
        ["POST", `${v1Run}/end`, withBytes('{"status": "FAILED", "error": "x', bytes, '"}')],
      ];
      for (const [method, path, body, contentType] of cases) {
        const before = await dumpDatabase();
        const response = await send(method, path, body, contentType);
        const label = `${method} ${path} with ${bytes.map((b) => b.toString(16))}`;
        expect(response.status, label).toBe(400);
        expect(response.json, label).toEqual({ error_code: "INVALID_PARAMETER_VALUE", message: "The request body is not valid UTF-8." });
        expect(await dumpDatabase(), label).toEqual(before);
      }
    }
    // Valid UTF-8, multi-byte characters included, is stored exactly.
    const tagged = await send("POST", "/api/2.0/mlflow/runs/set-tag", encoder.encode(`{"run_id": "${mlflowRun}", "key": "note", "value": "é😀"}`));
    expect(tagged.status).toBe(200);
    expect(await env.DB.prepare("select value from tags where run_uuid = ? and key = 'note'").bind(mlflowRun).first("value")).toBe("é😀");
  });
});
