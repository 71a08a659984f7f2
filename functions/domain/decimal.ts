/**
 * The decimal literal of MLflow's filters and wire values, `[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?`,
 * read by one forward scan: a regex for it backtracks quadratically on a long run of digits that
 * ends in the wrong character.
 */

const isDigit = (text: string, at: number) => at < text.length && text.charCodeAt(at) >= 48 && text.charCodeAt(at) <= 57;

function digitsEnd(text: string, at: number): number {
  while (isDigit(text, at)) at++;
  return at;
}

/** Where the longest decimal literal starting at `start` ends, or -1 when none starts there. */
export function decimalLiteralEnd(text: string, start: number): number {
  let at = start;
  if (text[at] === "+" || text[at] === "-") at++;
  const integerEnd = digitsEnd(text, at);
  if (integerEnd > at) {
    at = integerEnd;
    if (text[at] === ".") at = digitsEnd(text, at + 1);
  } else if (text[at] === "." && isDigit(text, at + 1)) {
    at = digitsEnd(text, at + 1);
  } else {
    return -1;
  }
  if (text[at] === "e" || text[at] === "E") {
    const sign = text[at + 1] === "+" || text[at + 1] === "-" ? 1 : 0;
    const exponentEnd = digitsEnd(text, at + 1 + sign);
    if (exponentEnd > at + 1 + sign) at = exponentEnd;
  }
  return at;
}

/** Whether all of `text` is one decimal literal. */
export function isDecimalLiteral(text: string): boolean {
  return text.length > 0 && decimalLiteralEnd(text, 0) === text.length;
}
