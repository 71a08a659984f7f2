/**
 * Python's `json.dump` writes the bare tokens NaN, Infinity and -Infinity, which JSON.parse rejects.
 * These helpers read such files without losing those values, and keep each number's source text so
 * that `4.0` can be told from `4` (Python logs them differently). Unpaired surrogates (which could
 * not be stored as written) and nesting deeper than Python writes are refused as a SyntaxError,
 * like malformed JSON.
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
/** Outside strings, what is neither JSON whitespace nor a separator. */
const NEXT_OF_INTEREST = /[^ \t\n\r,:]/g;
const JSON_WORDS: Record<string, string | undefined> = { t: "true", f: "false", n: "null" };
/** What a JSON number is made of: outside strings, a run of these from `-` or a digit is one literal. */
const NUMBER_RUN = /[-+.eE0-9]*/y;
const WORD_CHAR = /\w/;
/** The bare token that may start at a character. */
const BARE_TOKEN_AT: Record<string, (typeof BARE_TOKENS)[number] | undefined> = { N: "NaN", I: "Infinity", "-": "-Infinity" };
/** Deeper than Python's json can write (it recurses, to about 1000 levels) is refused before JSON.parse. */
const MAX_DEPTH = 1000;

/** Just past the quote that closes the string opened at `open`: the first one after an even run of backslashes. */
function stringEnd(text: string, open: number): number {
  for (let from = open + 1; ; ) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return text.length;
    let backslashes = 0;
    while (quote - backslashes - 1 > open && text[quote - backslashes - 1] === "\\") backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/**
 * One forward pass over the text: the extent of each string (a backslash escapes the next
 * character), the nesting depth, Python's bare tokens and the number literals outside strings;
 * a character that cannot start a JSON token ends it.
 * A regex for strings rescanned the rest of the text from every quote of an unterminated
 * `"\"\"\"...` (quadratic).
 */
function scan(text: string) {
  const bareTokens: Array<{ at: number; token: (typeof BARE_TOKENS)[number] }> = [];
  const literals: string[] = [];
  let depth = 0;
  let at = 0;
  for (;;) {
    // Native character-class searches jump over what does not matter (never backtracking).
    NEXT_OF_INTEREST.lastIndex = at;
    const next = NEXT_OF_INTEREST.exec(text);
    if (!next) break;
    at = next.index;
    const c = next[0];
    const bare = BARE_TOKEN_AT[c];
    const word = JSON_WORDS[c];
    if (c === '"') {
      at = stringEnd(text, at);
    } else if (c === "[" || c === "{") {
      if (++depth > MAX_DEPTH) throw new SyntaxError(`JSON text nests deeper than ${MAX_DEPTH} levels`);
      at++;
    } else if (c === "]" || c === "}") {
      depth--;
      at++;
    } else if (bare && text.startsWith(bare, at) && !WORD_CHAR.test(text[at + bare.length] ?? "")) {
      bareTokens.push({ at, token: bare });
      at += bare.length;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      NUMBER_RUN.lastIndex = at;
      NUMBER_RUN.test(text);
      literals.push(text.slice(at, NUMBER_RUN.lastIndex));
      at = NUMBER_RUN.lastIndex;
    } else if (word && text.startsWith(word, at)) {
      at += word.length;
    } else {
      // Not JSON whatever follows: refused here rather than after a pass over the rest.
      throw new SyntaxError(`Unexpected character ${JSON.stringify(c)} at position ${at} of the JSON text`);
    }
  }
  return { bareTokens, literals };
}

/**
 * The bare tokens become strings holding a marker that is new for every parse, so that no string in
 * the document can pass for one.
 */
function quoteBareTokens(text: string) {
  // 60 random bits: short, as every bare token is replaced by one (a document may hold 100,000s).
  const nonce = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  const values = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, "-Infinity": Number.NEGATIVE_INFINITY };
  const markers = new Map(BARE_TOKENS.map((token) => [`${token} ${nonce}`, values[token]]));
  const quotedMarkers = Object.fromEntries(BARE_TOKENS.map((token) => [token, JSON.stringify(`${token} ${nonce}`)]));
  const { bareTokens, literals } = scan(text);
  const chunks: string[] = [];
  let copied = 0;
  for (const { at, token } of bareTokens) {
    chunks.push(text.slice(copied, at), quotedMarkers[token]);
    copied = at + token.length;
  }
  chunks.push(text.slice(copied));
  const restore = (key: string, value: unknown): unknown => {
    // Stryker disable next-line ConditionalExpression: a non-string never holds a surrogate; the check only spares stringifying it
    if (LONE_SURROGATE.test(key) || (typeof value === "string" && LONE_SURROGATE.test(value))) {
      throw new SyntaxError("JSON text holds an unpaired UTF-16 surrogate");
    }
    return typeof value === "string" ? (markers.get(value) ?? value) : value;
  };
  return { quoted: chunks.join(""), restore, literals };
}

/** Whether a parsed JSON value is an object (not null, not a list): a config.json or metrics.json. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
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
  return JSON.parse(quoted, (key, value: unknown, context?: { source?: string }) => {
    const restored = restore(key, value);
    if (typeof value !== "number") return restored;
    // Numbers are revived in document order, so the scanner's n-th literal is this one.
    const source = context?.source ?? literals[index];
    index++;
    return new SourceNumber(value, source ?? String(value));
  }) as PyJson;
}
