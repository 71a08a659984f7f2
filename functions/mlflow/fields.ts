/**
 * zod schemas for MLflow request fields, lenient where MLflow's proto JSON parsing is: int64 may
 * arrive as a JSON number or a decimal string, metric values as numbers or "NaN"/"Infinity".
 */
import * as z from "zod/mini";
import { parseWireValue } from "../domain/metric-values";

export const int64 = z.pipe(z.pipe(z.union([z.number(), z.string().check(z.regex(/^[+-]?\d+$/, "expected an integer"))]), z.transform(Number)), z.int());

export const metricValue = z.pipe(
  z.union([z.number(), z.string()]),
  z.transform((value, ctx) => {
    const parsed = parseWireValue(value);
    if (parsed === undefined) {
      ctx.issues.push({ code: "custom", message: "expected a number, 'NaN', 'Infinity' or '-Infinity'", input: value });
      return z.NEVER;
    }
    return parsed;
  }),
);

/** Ids are strings on the wire; a number is taken as its decimal string. */
export const id = z.pipe(z.union([z.string(), z.int()]), z.transform(String));

export const keyValue = z.object({ key: z.string(), value: z.string() });

/** A repeated field: a JSON array in a body, one or more `name=` entries in a query string. */
export const repeatedString = z.pipe(
  z.union([id, z.array(id)]),
  z.transform((v) => (Array.isArray(v) ? v : [v])),
);

export const VIEW_TYPES = ["ACTIVE_ONLY", "DELETED_ONLY", "ALL"] as const;
export const viewType = z._default(z.enum(VIEW_TYPES), "ACTIVE_ONLY");

/** The fields every search endpoint shares. */
export const searchFields = {
  max_results: z.optional(int64),
  page_token: z.optional(z.string()),
  filter: z.optional(z.string()),
  order_by: z.optional(repeatedString),
};
