/**
 * Python's `json.dump` writes the bare tokens NaN, Infinity and -Infinity, which JSON.parse rejects.
 * These helpers read such files without losing those values, and keep each number's source text so
 * that `4.0` can be told from `4` (Python logs them differently).
 */

export const NAN_MARKER = "\u0000NaN";
export const INF_MARKER = "\u0000Infinity";
export const NEG_INF_MARKER = "\u0000-Infinity";

/** A JSON number together with its literal text, e.g. `{ value: 4, source: "4.0" }`. */
export class SourceNumber {
  constructor(
    readonly value: number,
    readonly source: string,
  ) {}
}

/** Parsed Python JSON: numbers become SourceNumber (or a non-finite number for NaN/Infinity). */
export type PyJson = null | boolean | string | number | SourceNumber | PyJson[] | { [key: string]: PyJson };

const BARE_TOKENS = /"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)\b/g;

function quoteBareTokens(text: string): string {
  return text.replace(BARE_TOKENS, (match, token: string | undefined) => {
    if (!token) return match;
    return JSON.stringify(token === "NaN" ? NAN_MARKER : token === "Infinity" ? INF_MARKER : NEG_INF_MARKER);
  });
}

function restoreMarkers(value: unknown): unknown {
  if (value === NAN_MARKER) return Number.NaN;
  if (value === INF_MARKER) return Number.POSITIVE_INFINITY;
  if (value === NEG_INF_MARKER) return Number.NEGATIVE_INFINITY;
  return value;
}

/** Like JSON.parse, but also accepts Python's NaN/Infinity tokens. Numbers are plain numbers. */
export function parsePythonJson(text: string): unknown {
  return JSON.parse(quoteBareTokens(text), (_key, value) => restoreMarkers(value));
}

/**
 * Like parsePythonJson, but every finite number keeps its source text. Uses JSON.parse's source
 * access where the runtime has it (workerd, Node 21+), and a number scanner elsewhere.
 */
export function parsePythonJsonWithSource(text: string): PyJson {
  const quoted = quoteBareTokens(text);
  const literals = numberLiterals(quoted);
  let index = 0;
  return JSON.parse(quoted, function (_key, value: unknown, context?: { source?: string }) {
    if (typeof value === "number") {
      // Numbers are revived in document order, so the scanner's n-th literal is this one.
      const source = context?.source ?? literals[index];
      index++;
      return new SourceNumber(value, source ?? String(value));
    }
    return restoreMarkers(value);
  }) as PyJson;
}

/** The number literals of a JSON text outside strings, in document order. */
function numberLiterals(text: string): string[] {
  const out: string[] = [];
  const token = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
  for (const match of text.matchAll(token)) {
    if (match[0][0] !== '"') out.push(match[0]);
  }
  return out;
}
