/**
 * zod schemas for MLflow request fields, lenient where MLflow's proto JSON parsing is: int64 may
 * arrive as a JSON number or a decimal string, metric values as numbers or "NaN"/"Infinity".
 */
import { z } from "zod";
import { parseWireValue } from "../domain/metric-values";

export const int64 = z
  .union([z.number(), z.string().regex(/^[+-]?\d+$/, "expected an integer")])
  .transform(Number)
  .pipe(z.int());

export const metricValue = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const parsed = parseWireValue(value);
  if (parsed === undefined) {
    ctx.addIssue({ code: "custom", message: "expected a number, 'NaN', 'Infinity' or '-Infinity'" });
    return z.NEVER;
  }
  return parsed;
});

/** Ids are strings on the wire; a number is taken as its decimal string. */
export const id = z.union([z.string(), z.int()]).transform(String);

export const keyValue = z.object({ key: z.string(), value: z.string() });

/** A repeated field: a JSON array in a body, one or more `name=` entries in a query string. */
export const repeatedString = z.union([id, z.array(id)]).transform((v) => (Array.isArray(v) ? v : [v]));

export const VIEW_TYPES = ["ACTIVE_ONLY", "DELETED_ONLY", "ALL"] as const;
export const viewType = z.enum(VIEW_TYPES).default("ACTIVE_ONLY");

/** The fields every search endpoint shares. */
export const searchFields = {
  max_results: int64.optional(),
  page_token: z.string().optional(),
  filter: z.string().optional(),
  order_by: repeatedString.optional(),
};
