import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../functions/store/tokens";
import { ADMIN_TOKEN, type CallOptions, call } from "./support/call";

const tokenRows = async () => (await env.DB.prepare("select * from api_tokens order by name").all<any>()).results;

describe("/api/v1/tokens", () => {
  it("mints a token shown once, stores only its SHA-256, and lets it write", async () => {
    const response = await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name: "slurm-a" } });
    expect(response.status).toBe(201);
    const { name, token } = response.json;
    expect(name).toBe("slurm-a");
    expect(token).toMatch(/^kdgat_[A-Za-z0-9_-]{43}$/);
    const [row] = await tokenRows();
    expect(row).toMatchObject({ name: "slurm-a", token_hash: await sha256Hex(token), revoked_at: null });
    expect(JSON.stringify(await tokenRows())).not.toContain(token);

    expect((await call("PUT", "/api/v1/runs/set_01/teacher_normal", { token, body: "{}" })).status).toBe(201);
  });

  it("lists tokens without secrets or hashes, never cached", async () => {
    // last_used_at is written after the response (waitUntil): give it a moment.
    for (let i = 0; i < 50 && (await tokenRows())[0].last_used_at === null; i++) await new Promise((r) => setTimeout(r, 20));
    const response = await call("GET", "/api/v1/tokens", { token: ADMIN_TOKEN });
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = response.json;
    expect(body.tokens).toEqual([{ name: "slurm-a", created_at: expect.any(Number), last_used_at: expect.any(Number), revoked_at: null }]);
    expect(JSON.stringify(body)).not.toMatch(/hash|kdgat_/);
  });

  it("refuses a second live token of the same name", async () => {
    const before = await tokenRows();
    const response = await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name: "slurm-a" } });
    expect(response.status).toBe(400);
    expect(response.json.error_code).toBe("RESOURCE_ALREADY_EXISTS");
    expect(await tokenRows()).toEqual(before);
  });

  it("revokes: the token then gets 401, revoking again keeps the first time, and the name can be minted anew", async () => {
    const { token: old } = (await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name: "slurm-b" } })).json;
    expect((await call("DELETE", "/api/v1/tokens/slurm-b", { token: ADMIN_TOKEN })).status).toBe(200);
    const denied = await call("PUT", "/api/v1/runs/set_01/teacher_normal", { token: old, body: "{}" });
    expect(denied.status).toBe(401);
    expect(denied.json).toMatchObject({ error_code: "UNAUTHENTICATED" });
    expect(denied.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    const revokedAt = (await tokenRows()).find((t) => t.name === "slurm-b").revoked_at;
    expect(revokedAt).toEqual(expect.any(Number));
    expect((await call("DELETE", "/api/v1/tokens/slurm-b", { token: ADMIN_TOKEN })).status).toBe(200);
    expect((await tokenRows()).find((t) => t.name === "slurm-b").revoked_at).toBe(revokedAt);
    const listed = (await call("GET", "/api/v1/tokens", { token: ADMIN_TOKEN })).json;
    expect(listed.tokens.find((t: any) => t.name === "slurm-b").revoked_at).toBe(revokedAt);

    const { token: fresh } = (await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name: "slurm-b" } })).json;
    expect((await call("PUT", "/api/v1/runs/set_01/teacher_normal", { token: fresh, body: '{"x": 1}' })).status).toBe(201);
    expect((await call("PUT", "/api/v1/runs/set_01/teacher_normal", { token: old, body: '{"x": 2}' })).status).toBe(401);
  });

  const errors: Array<[string, string, string, CallOptions, number, string]> = [
    ["minting without a token", "POST", "/api/v1/tokens", { body: { name: "x" } }, 401, "UNAUTHENTICATED"],
    ["minting with a write token", "POST", "/api/v1/tokens", { body: { name: "x" }, token: "write-token-not-admin" }, 401, "UNAUTHENTICATED"],
    ["listing without the admin token", "GET", "/api/v1/tokens", {}, 401, "UNAUTHENTICATED"],
    ["revoking without the admin token", "DELETE", "/api/v1/tokens/slurm-a", {}, 401, "UNAUTHENTICATED"],
    ["a bad name", "POST", "/api/v1/tokens", { body: { name: "has space" }, token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
    ["no name", "POST", "/api/v1/tokens", { body: {}, token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
    ["malformed JSON", "POST", "/api/v1/tokens", { body: "{", token: ADMIN_TOKEN }, 400, "INVALID_PARAMETER_VALUE"],
    ["revoking an unknown name", "DELETE", "/api/v1/tokens/nobody", { token: ADMIN_TOKEN }, 404, "RESOURCE_DOES_NOT_EXIST"],
  ];
  for (const [label, method, path, options, status, code] of errors) {
    it(`${label}: ${status} ${code}, nothing changed`, async () => {
      const before = await tokenRows();
      const response = await call(method, path, options);
      expect(response.status).toBe(status);
      expect(response.json.error_code).toBe(code);
      expect(await tokenRows()).toEqual(before);
    });
  }
});
