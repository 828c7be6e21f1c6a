// Synapse's paging rule, for the endpoints that page: `next_token` is the `from` of the next
// page, present only when there is one.

/** `body` with `next_token` added when `from + limit` has not reached `total`. */
export function withNextToken<Body extends { total: number; next_token?: number }>(
  body: Body,
  params: { from: number; limit: number },
  page: readonly unknown[],
): Body {
  if (params.from + params.limit < body.total) body.next_token = params.from + page.length;
  return body;
}
