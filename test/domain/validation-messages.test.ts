/**
 * A bad request parameter is answered in MLflow's wording around zod's English message. zod/mini
 * ships no messages (it answers a bare "Invalid input"), so this guards that the English locale is
 * configured wherever the Worker's schemas are parsed.
 */
import { describe, expect, it } from "vitest";
import { parseWith } from "../../functions/http/validate.js";
import { keyValue, searchFields, viewType } from "../../functions/mlflow/fields.js";

const HINT = "See the API docs for more information about request parameters.";

function refusal(schema: Parameters<typeof parseWith>[0], input: unknown): string {
  try {
    parseWith(schema, input);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe("a refused parameter", () => {
  it("quotes zod's English message for a value of the wrong type, option or format", () => {
    expect(refusal(keyValue, { key: 1, value: "v" })).toBe(`Invalid value 1 for parameter 'key' supplied: Invalid input: expected string, received number. ${HINT}`);
    expect(refusal(viewType, "NOPE")).toBe(`Invalid value "NOPE" for parameter 'body' supplied: Invalid option: expected one of "ACTIVE_ONLY"|"DELETED_ONLY"|"ALL". ${HINT}`);
    expect(refusal(searchFields.max_results, 1.5)).toBe(`Invalid value 1.5 for parameter 'body' supplied: Invalid input: expected int, received number. ${HINT}`);
  });
});
