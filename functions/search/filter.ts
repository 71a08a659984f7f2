/**
 * MLflow's search grammar, parsed into a small AST: `filter` strings (clauses joined by AND) and
 * `order_by` items. Pure: no SQL and no Workers imports (the store turns the AST into bound SQL).
 * Error messages follow MLflow's wording, quoting at most an excerpt of the input; they all surface
 * as INVALID_PARAMETER_VALUE.
 */
import { decimalLiteralEnd } from "../domain/decimal";
import { excerpt } from "../domain/excerpt";

export const NUMERIC_OPS = ["!=", ">", ">=", "=", "<", "<="] as const;
export const STRING_OPS = ["!=", "=", "LIKE", "ILIKE"] as const;
export const LIST_OPS = ["IN", "NOT IN"] as const;
export type NumericOp = (typeof NUMERIC_OPS)[number];
export type StringOp = (typeof STRING_OPS)[number];
export type ListOp = (typeof LIST_OPS)[number];

export type Entity = "metric" | "param" | "tag" | "attribute";
/** How a key compares: numbers, strings, or strings that also take IN lists (run ids). */
export type ValueKind = "numeric" | "string" | "id";

export type Comparison = { op: NumericOp; value: number } | { op: StringOp; value: string } | { op: ListOp; value: string[] };

export type Clause = { entity: Entity; key: string } & Comparison;

export interface OrderKey {
  entity: Entity;
  key: string;
  ascending: boolean;
}

/** What one search endpoint accepts: entity prefixes and attribute keys (with aliases). */
export interface Vocabulary {
  prefixes: Record<string, Entity>;
  /** Canonical attribute name -> how it compares. */
  attributes: Record<string, ValueKind>;
  attributeAliases: Record<string, string>;
  /** Attributes that may appear in order_by. */
  orderAttributes: readonly string[];
}

const ATTRIBUTE_PREFIXES = { attribute: "attribute", attributes: "attribute", attr: "attribute" } as const;

export const RUN_SEARCH: Vocabulary = {
  prefixes: {
    metric: "metric",
    metrics: "metric",
    param: "param",
    params: "param",
    parameter: "param",
    parameters: "param",
    tag: "tag",
    tags: "tag",
    ...ATTRIBUTE_PREFIXES,
    run: "attribute",
  },
  attributes: {
    run_id: "id",
    run_name: "string",
    status: "string",
    user_id: "string",
    artifact_uri: "string",
    lifecycle_stage: "string",
    start_time: "numeric",
    end_time: "numeric",
  },
  attributeAliases: { created: "start_time", Created: "start_time" },
  orderAttributes: ["run_id", "run_name", "status", "user_id", "artifact_uri", "start_time", "end_time"],
};

export const EXPERIMENT_SEARCH: Vocabulary = {
  prefixes: { tag: "tag", tags: "tag", ...ATTRIBUTE_PREFIXES },
  attributes: { name: "string", creation_time: "numeric", last_update_time: "numeric", experiment_id: "numeric" },
  attributeAliases: {},
  orderAttributes: ["name", "creation_time", "last_update_time", "experiment_id"],
};

export class SearchSyntaxError extends Error {}

// ---------------------------------------------------------------------------------------------
// Tokens

type TokenKind = "word" | "quoted" | "number" | "op" | "(" | ")" | ",";
interface Token {
  kind: TokenKind;
  text: string;
  /** For quoted tokens: the quote character. */
  quote?: string;
  start: number;
  end: number;
}

/** JavaScript's `\s`, with ASCII answered without a regex. */
const isSpace = (c: string) => c === " " || (c >= "\t" && c <= "\r") || (c > "\x7f" && /\s/.test(c));
const isWordStart = (c: string | undefined) => c !== undefined && /[A-Za-z_]/.test(c);
const isWordChar = (c: string | undefined) => c !== undefined && /[\w.]/.test(c);
const isOperatorChar = (c: string | undefined) => c !== undefined && "<>=!~".includes(c);
const PUNCTUATION = new Set(["(", ")", ","]);

/** The end of the run of characters from `at` that pass `test`. */
function runEnd(input: string, at: number, test: (c: string | undefined) => boolean): number {
  while (test(input[at])) at++;
  return at;
}

/** A quoted string from the quote at `at`: a doubled quote inside stands for the quote itself. */
function readQuoted(input: string, at: number, invalid: () => SearchSyntaxError): Token {
  const quote = input[at];
  let text = "";
  let from = at + 1;
  for (;;) {
    const close = input.indexOf(quote, from);
    if (close < 0) throw invalid();
    if (input[close + 1] !== quote) return { kind: "quoted", text: text + input.slice(from, close), quote, start: at, end: close + 1 };
    text += input.slice(from, close + 1);
    from = close + 2;
  }
}

/**
 * The token at `at` (after whitespace), or undefined at the end: one forward step, each character
 * looked at a bounded number of times (a regex number pattern backtracked quadratically on a long
 * digit run ending in a letter). A number must not run into a word character or a dot (`1.2.3`,
 * `5x` are not numbers).
 */
function readToken(input: string, at: number, invalid: () => SearchSyntaxError): Token | undefined {
  while (at < input.length && isSpace(input[at])) at++;
  if (at >= input.length) return undefined;
  const c = input[at];
  if (c === "'" || c === '"' || c === "`") return readQuoted(input, at, invalid);
  const token = (kind: TokenKind, end: number): Token => ({ kind, text: input.slice(at, end), start: at, end });
  if (isWordStart(c)) return token("word", runEnd(input, at + 1, isWordChar));
  if (isOperatorChar(c)) return token("op", runEnd(input, at, isOperatorChar));
  if (PUNCTUATION.has(c)) return token(c as TokenKind, at + 1);
  const end = decimalLiteralEnd(input, at);
  if (end < 0 || isWordChar(input[end])) throw invalid();
  return token("number", end);
}

/** All tokens first, so that a malformed token anywhere is "Could not be parsed", as in MLflow. */
function tokenize(input: string, invalid: () => SearchSyntaxError): Token[] {
  const tokens: Token[] = [];
  for (let token = readToken(input, 0, invalid); token; token = readToken(input, token.end, invalid)) tokens.push(token);
  return tokens;
}

/** A cursor over the tokens of one filter or order_by string. */
class Tokens {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}
  peek(): Token | undefined {
    return this.tokens[this.at];
  }
  next(): Token | undefined {
    return this.tokens[this.at++];
  }
  done(): boolean {
    return this.at >= this.tokens.length;
  }
  isWord(word: string): boolean {
    const token = this.peek();
    return token?.kind === "word" && token.text.toUpperCase() === word;
  }
}

// ---------------------------------------------------------------------------------------------
// Identifiers: `metrics.loss`, `tags."mlflow.runName"`, ``metrics.`val-loss` ``, `status`.

function readIdentifier(tokens: Tokens, vocabulary: Vocabulary, invalid: () => SearchSyntaxError): { entity: Entity; key: string } {
  const first = tokens.next();
  if (!first) throw invalid();
  let prefix: string | undefined;
  let key: string;
  if (first.kind === "word") {
    const dot = first.text.indexOf(".");
    if (dot === -1) {
      key = first.text;
    } else {
      prefix = first.text.slice(0, dot);
      key = first.text.slice(dot + 1);
      const quoted = tokens.peek();
      // `metrics."val-loss"`: a quoted key right after the dot, no space between.
      if (key === "" && quoted?.kind === "quoted" && quoted.quote !== "'" && quoted.start === first.start + first.text.length) {
        key = tokens.next()!.text;
      }
    }
  } else if (first.kind === "quoted" && first.quote === "`") {
    key = first.text;
  } else {
    throw invalid();
  }
  if (key === "") throw invalid();
  if (prefix === undefined) return { entity: "attribute", key: canonicalAttribute(vocabulary, key) };
  const entity = vocabulary.prefixes[prefix];
  if (!entity) {
    const valid = [...new Set(Object.values(vocabulary.prefixes))].map((e) => `'${e}'`).join(", ");
    throw new SearchSyntaxError(`Invalid entity type '${excerpt(prefix)}'. Valid values are [${valid}]`);
  }
  return { entity, key: entity === "attribute" ? canonicalAttribute(vocabulary, key) : key };
}

function canonicalAttribute(vocabulary: Vocabulary, key: string): string {
  const name = vocabulary.attributeAliases[key] ?? key;
  if (!(name in vocabulary.attributes)) {
    throw new SearchSyntaxError(`Invalid attribute key '${excerpt(key)}' specified. Valid keys are '${Object.keys(vocabulary.attributes).join("', '")}'`);
  }
  return name;
}

function valueKind(vocabulary: Vocabulary, entity: Entity, key: string): ValueKind {
  if (entity === "metric") return "numeric";
  if (entity === "attribute") return vocabulary.attributes[key];
  return "string";
}

// ---------------------------------------------------------------------------------------------
// Filters

/** The comparators each kind of value takes. */
const OPS_OF: Record<ValueKind, readonly string[]> = { numeric: NUMERIC_OPS, string: STRING_OPS, id: [...STRING_OPS, ...LIST_OPS] };

const setRepr = (ops: readonly string[]) => `{${ops.map((op) => `'${op}'`).join(", ")}}`;

function readComparator(tokens: Tokens, kind: ValueKind, invalid: () => SearchSyntaxError): Comparison["op"] {
  const token = tokens.next();
  if (!token || (token.kind !== "op" && token.kind !== "word")) throw invalid();
  let op = token.text.toUpperCase();
  if (op === "NOT" && tokens.isWord("IN")) {
    tokens.next();
    op = "NOT IN";
  }
  const valid = OPS_OF[kind];
  if (!valid.includes(op)) throw new SearchSyntaxError(`Invalid comparator '${excerpt(token.kind === "word" ? op : token.text)}' not one of '${setRepr(valid)}`);
  return op as Comparison["op"];
}

function readStringValue(tokens: Tokens, entity: Entity, invalid: () => SearchSyntaxError): string {
  const token = tokens.next();
  if (!token) throw invalid();
  if (token.kind !== "quoted" || token.quote === "`") {
    throw new SearchSyntaxError(`Expected a quoted string value for ${entity} (e.g. 'my-value'). Got value ${excerpt(token.text)}`);
  }
  return token.text;
}

function readList(tokens: Tokens, invalid: () => SearchSyntaxError): string[] {
  if (tokens.next()?.kind !== "(") throw invalid();
  const values: string[] = [];
  for (;;) {
    const token = tokens.next();
    if (token?.kind !== "quoted" || token.quote === "`") {
      throw new SearchSyntaxError(
        `While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ${token ? excerpt(token.text) : "end of input"}`,
      );
    }
    values.push(token.text);
    const separator = tokens.next();
    if (separator?.kind === ")") return values;
    if (separator?.kind !== ",") throw invalid();
  }
}

function readClause(tokens: Tokens, vocabulary: Vocabulary, invalid: () => SearchSyntaxError): Clause {
  const { entity, key } = readIdentifier(tokens, vocabulary, invalid);
  const kind = valueKind(vocabulary, entity, key);
  const op = readComparator(tokens, kind, invalid);
  if (op === "IN" || op === "NOT IN") return { entity, key, op, value: readList(tokens, invalid) };
  if (kind === "numeric") {
    const token = tokens.next();
    if (!token) throw invalid();
    const value = token.kind === "number" ? Number(token.text) : Number.NaN;
    if (!Number.isFinite(value)) throw new SearchSyntaxError(`Expected numeric value type for ${entity}. Found ${excerpt(token.text)}`);
    return { entity, key, op: op as NumericOp, value };
  }
  return { entity, key, op: op as StringOp, value: readStringValue(tokens, entity, invalid) };
}

/** Parses a filter string: comparisons joined by AND (any case). Empty means no clauses. */
export function parseFilter(filter: string | undefined, vocabulary: Vocabulary): Clause[] {
  if (!filter || filter.trim() === "") return [];
  const invalid = () => new SearchSyntaxError(`Invalid filter '${excerpt(filter)}'. Could not be parsed.`);
  const tokens = new Tokens(tokenize(filter, invalid));
  const clauses = [readClause(tokens, vocabulary, invalid)];
  while (!tokens.done()) {
    if (!tokens.isWord("AND")) throw new SearchSyntaxError(`Invalid clause(s) in filter string: ${excerpt(tokens.peek()!.text)}`);
    tokens.next();
    clauses.push(readClause(tokens, vocabulary, invalid));
  }
  return clauses;
}

// ---------------------------------------------------------------------------------------------
// order_by

/** Parses order_by items (`<identifier> [ASC|DESC]`); duplicates are an error, as in MLflow. */
export function parseOrderBy(items: readonly string[] | undefined, vocabulary: Vocabulary): OrderKey[] {
  const keys = (items ?? []).map((item) => parseOrderItem(item, vocabulary));
  const seen = new Set<string>();
  for (const key of keys) {
    const id = `${key.entity}\u0000${key.key}`;
    if (seen.has(id)) throw new SearchSyntaxError(`\`order_by\` contains duplicate fields: [${excerpt((items ?? []).map((i) => `'${i}'`).join(", "))}]`);
    seen.add(id);
  }
  return keys;
}

function parseOrderItem(item: string, vocabulary: Vocabulary): OrderKey {
  const invalid = () => new SearchSyntaxError(`Invalid order_by clause '${excerpt(item)}'. Could not be parsed.`);
  const tokens = new Tokens(tokenize(item, invalid));
  const orderVocabulary = { ...vocabulary, attributes: orderAttributes(vocabulary) };
  const { entity, key } = readIdentifier(tokens, orderVocabulary, invalid);
  let ascending = true;
  if (!tokens.done()) {
    const direction = tokens.next()!;
    const word = direction.kind === "word" ? direction.text.toUpperCase() : undefined;
    if ((word !== "ASC" && word !== "DESC") || !tokens.done()) {
      throw new SearchSyntaxError(`Invalid ordering key in order_by clause '${excerpt(item)}'.`);
    }
    ascending = word === "ASC";
  }
  return { entity, key, ascending };
}

function orderAttributes(vocabulary: Vocabulary): Record<string, ValueKind> {
  return Object.fromEntries(vocabulary.orderAttributes.map((name) => [name, vocabulary.attributes[name]]));
}
