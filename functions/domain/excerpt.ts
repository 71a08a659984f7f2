/** How much of a client's input an error message may quote. */
export const EXCERPT_LENGTH = 200;

/**
 * The start of `text` for an error message: at most EXCERPT_LENGTH characters, never half a
 * surrogate pair, and the full length named when it was cut (a 64 KB filter is not echoed back).
 */
export function excerpt(text: string): string {
  if (text.length <= EXCERPT_LENGTH) return text;
  const end = /[\uD800-\uDBFF]/.test(text[EXCERPT_LENGTH - 1]) ? EXCERPT_LENGTH - 1 : EXCERPT_LENGTH;
  return `${text.slice(0, end)}... (${text.length} characters)`;
}
