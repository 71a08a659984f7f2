/** Write tokens, administered with the admin token: mint (shown once), list (never secrets), revoke. */
import { Hono } from "hono";
import * as z from "zod/mini";
import { excerpt } from "../domain/excerpt";
import type { AppEnv } from "../env";
import { invalidParameter } from "../errors";
import { admin } from "../http/access";
import { jsonBody } from "../http/validate";
import { listTokens, mintToken, revokeToken } from "../store/tokens";
import type { TokenCreatedResponse, TokenListResponse } from "./contract";

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const tokenName = z.string().check(z.regex(TOKEN_NAME, "letters, digits, '.', '_' and '-', at most 64"));

export const tokenRoutes = new Hono<AppEnv>()
  .post("/tokens", admin(), jsonBody(z.strictObject({ name: tokenName })), async (c) => {
    const { name } = c.req.valid("json");
    const body: TokenCreatedResponse = { name, token: await mintToken(c.get("db"), name) };
    c.header("Cache-Control", "no-store");
    return c.json(body, 201);
  })
  .get("/tokens", admin(), async (c) => {
    const rows = await listTokens(c.get("db"));
    const body: TokenListResponse = {
      tokens: rows.map((t) => ({ name: t.name, created_at: t.createdAt, last_used_at: t.lastUsedAt, revoked_at: t.revokedAt })),
    };
    c.header("Cache-Control", "no-store");
    return c.json(body);
  })
  .delete("/tokens/:name", admin(), async (c) => {
    const name = c.req.param("name");
    if (!TOKEN_NAME.test(name)) throw invalidParameter(`Invalid token name '${excerpt(name)}'.`);
    await revokeToken(c.get("db"), name);
    return c.json({});
  });
