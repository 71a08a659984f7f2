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

/** In Unicode mode only unpaired surrogates match, which cannot be stored as UTF-8 text. */
const LONE_SURROGATE = /\p{Surrogate}/u;
const BARE_TOKENS = ["-Infinity", "Infinity", "NaN"] as const;
/** What a JSON number is made of: outside strings, a run of these from `-` or a digit is one literal. */
const NUMBER_CHAR = /[-+.eE0-9]/;
const WORD_CHAR = /\w/;

/**
 * One forward pass over the text: the extent of each string (a backslash escapes the next
 * character), Python's bare tokens and the number literals outside strings. A regex for strings
 * rescanned the rest of the text from every quote of an unterminated `"\"\"\"...` (quadratic).
 */
function scan(text: string) {
  const bareTokens: Array<{ at: number; token: (typeof BARE_TOKENS)[number] }> = [];
  const literals: string[] = [];
  let at = 0;
  while (at < text.length) {
    const c = text[at];
    if (c === '"') {
      at++;
      while (at < text.length && text[at] !== '"') at += text[at] === "\\" ? 2 : 1;
      at++;
      continue;
    }
    const token = BARE_TOKENS.find((t) => text.startsWith(t, at) && !WORD_CHAR.test(text[at + t.length] ?? ""));
    if (token) {
      bareTokens.push({ at, token });
      at += token.length;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      const start = at;
      while (at < text.length && NUMBER_CHAR.test(text[at])) at++;
      literals.push(text.slice(start, at));
    } else {
      at++;
    }
  }
  return { bareTokens, literals };
}

/**
 * The bare tokens become strings holding a marker that is new for every parse, so that no string in
 * the document can pass for one.
 */
function quoteBareTokens(text: string) {
  const nonce = crypto.randomUUID();
  const markers = new Map<string, number>([
    [`NaN ${nonce}`, Number.NaN],
    [`Infinity ${nonce}`, Number.POSITIVE_INFINITY],
    [`-Infinity ${nonce}`, Number.NEGATIVE_INFINITY],
  ]);
  const { bareTokens, literals } = scan(text);
  const chunks: string[] = [];
  let copied = 0;
  for (const { at, token } of bareTokens) {
    chunks.push(text.slice(copied, at), JSON.stringify(`${token} ${nonce}`));
    copied = at + token.length;
  }
  chunks.push(text.slice(copied));
  const restore = (key: string, value: unknown): unknown => {
    if (LONE_SURROGATE.test(key) || (typeof value === "string" && LONE_SURROGATE.test(value))) {
      throw new SyntaxError("JSON text holds an unpaired UTF-16 surrogate");
    }
    return typeof value === "string" ? (markers.get(value) ?? value) : value;
  };
  return { quoted: chunks.join(""), restore, literals };
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
  const { quoted, restore, literals } = quoteBareTokens(text);
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
