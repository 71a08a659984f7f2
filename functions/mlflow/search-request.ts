/** Turns the search fields of a request into the parsed AST and page window the store takes. */
import { LIMITS } from "../domain/limits";
import { invalidParameter } from "../errors";
import { capLength } from "../http/limits";
import { parseFilter, parseOrderBy, SearchSyntaxError, type Vocabulary } from "../search/filter";

export interface SearchRequestFields {
  max_results?: number;
  page_token?: string;
  filter?: string;
  order_by?: string[];
}

/**
 * Parses filter, order_by, max_results and the page token (with the search's own decoder: offsets
 * for experiments, cursors for runs); any mistake is INVALID_PARAMETER_VALUE.
 */
export function parseSearchRequest<Page>(fields: SearchRequestFields, vocabulary: Vocabulary, decodePage: (token: string | undefined) => Page) {
  const maxResults = fields.max_results ?? LIMITS.defaultSearchResults;
  if (maxResults > LIMITS.maxSearchResults) {
    throw invalidParameter(`Invalid value for request parameter max_results. It must be at most ${LIMITS.maxSearchResults}, but got value ${maxResults}`);
  }
  if (maxResults < 1) {
    throw invalidParameter(`Invalid value for request parameter max_results. It must be a positive integer, but got value ${maxResults}`);
  }
  capLength("filter", fields.filter, LIMITS.maxFilterLength);
  for (const item of fields.order_by ?? []) capLength("order_by", item, LIMITS.maxOrderByLength);
  capLength("page_token", fields.page_token, LIMITS.maxPageTokenLength);
  try {
    return {
      filter: parseFilter(fields.filter, vocabulary),
      orderBy: parseOrderBy(fields.order_by, vocabulary),
      page: decodePage(fields.page_token),
      maxResults,
    };
  } catch (error) {
    if (error instanceof SearchSyntaxError) throw invalidParameter(error.message);
    throw error;
  }
}
