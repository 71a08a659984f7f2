/**
 * Page tokens as MLflow makes them: base64 of Python's `json.dumps({"offset": N})`. Tokens come
 * from clients, so decoding is strict: anything but that exact shape is refused.
 */
import { excerpt } from "../domain/excerpt";
import { SearchSyntaxError } from "./filter";

export function encodePageToken(offset: number): string {
  return btoa(`{"offset": ${offset}}`);
}

/** The offset a token stands for (0 without a token). */
export function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === "") return 0;
  let text: string;
  try {
    text = atob(token);
  } catch {
    throw new SearchSyntaxError("Invalid page token, could not base64-decode");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SearchSyntaxError(`Invalid page token, decoded value=${excerpt(JSON.stringify(text))}`);
  }
  const offset = (parsed as { offset?: unknown } | null)?.offset;
  const onlyOffset = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) && Object.keys(parsed).length === 1;
  if (!onlyOffset || typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    throw new SearchSyntaxError(`Invalid page token, parsed value=${excerpt(JSON.stringify(parsed) ?? String(parsed))}`);
  }
  return offset;
}

/** MLflow hands out a next token whenever a page is full, even if nothing follows. */
export function nextPageToken(offset: number, pageSize: number, maxResults: number): string | undefined {
  return pageSize > 0 && pageSize === maxResults ? encodePageToken(offset + pageSize) : undefined;
}
