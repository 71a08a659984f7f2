/**
 * Python's `json.dump` writes the bare tokens NaN, Infinity and -Infinity, which JSON.parse rejects.
 * These helpers read such files without losing those values, and keep each number's source text so
 * that `4.0` can be told from `4` (Python logs them differently). Unpaired surrogates (which could
 * not be stored as written) are refused as a SyntaxError, like malformed JSON.
 */

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
/** In Unicode mode only unpaired surrogates match, which cannot be stored as UTF-8 text. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * The bare tokens become strings holding a marker that is new for every parse, so that no string in
 * the document can pass for one.
 */
function quoteBareTokens(text: string) {
  const nonce = crypto.randomUUID();
  const markers = new Map<unknown, number>([
    [`NaN ${nonce}`, Number.NaN],
    [`Infinity ${nonce}`, Number.POSITIVE_INFINITY],
    [`-Infinity ${nonce}`, Number.NEGATIVE_INFINITY],
  ]);
  const quoted = text.replace(BARE_TOKENS, (match, token: string | undefined) => (token ? JSON.stringify(`${token} ${nonce}`) : match));
  const restore = (key: string, value: unknown): unknown => {
    // Stryker disable next-line ConditionalExpression: a non-string never holds a surrogate; the check only spares stringifying it
    if (LONE_SURROGATE.test(key) || (typeof value === "string" && LONE_SURROGATE.test(value))) {
      throw new SyntaxError("JSON text holds an unpaired UTF-16 surrogate");
    }
    return markers.get(value) ?? value;
  };
  return { quoted, restore };
}

/** Like JSON.parse, but also accepts Python's NaN/Infinity tokens. Numbers are plain numbers. */
export function parsePythonJson(text: string): unknown {
  const { quoted, restore } = quoteBareTokens(text);
  return JSON.parse(quoted, restore);
}

/**
 * Like parsePythonJson, but every finite number keeps its source text. Uses JSON.parse's source
 * access where the runtime has it (workerd, Node 21+), and a number scanner elsewhere.
 */
export function parsePythonJsonWithSource(text: string): PyJson {
  const { quoted, restore } = quoteBareTokens(text);
  const literals = numberLiterals(quoted);
  let index = 0;
  return JSON.parse(quoted, function (key, value: unknown, context?: { source?: string }) {
    const restored = restore(key, value);
    if (typeof value !== "number") return restored;
    // Numbers are revived in document order, so the scanner's n-th literal is this one.
    const source = context?.source ?? literals[index];
    index++;
    return new SourceNumber(value, source ?? String(value));
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
