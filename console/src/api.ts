/**
 * The console's only ways to the service: the public GraphQL API (POST /graphql) and the session
 * routes. Requests carry the session cookie (same origin) and, for POSTs, the session's CSRF token.
 */

/** A refusal or failure, with the service's machine-readable codes (docs: README "Errors"). */
export class ApiError extends Error {
  constructor(
    message: string,
    /** The category: BAD_USER_INPUT, CONFLICT, FORBIDDEN... or NETWORK when the service did not answer. */
    readonly code: string,
    /** The specific code (SLICE_VERSION_CONFLICT...), when the service gave one. */
    readonly errorCode: string | null = null,
    /** The input field it names (`percent`, `rules[1].percent`), for BAD_USER_INPUT. */
    readonly field: string | null = null,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

let csrfToken = '';

/** Set at sign-in and on load (GET /console/session): sent with every POST. */
export function useCsrfToken(token: string): void {
  csrfToken = token;
}

export function currentCsrfToken(): string {
  return csrfToken;
}

interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; errorCode?: string; field?: string } & Record<string, unknown>;
}

/** Runs one GraphQL operation; throws ApiError with the first error's codes. */
export async function graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  return send<T>('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', 'x-switchyard-csrf': csrfToken }, body: JSON.stringify({ query, variables }) });
}

/**
 * Runs one GraphQL query as a GET. A GET needs no CSRF token (the service asks it of other methods
 * only, and runs no mutation sent as a GET), so it can be sent before the session is known, in
 * parallel with it: the slice list's first request does (boot.ts). `apollo-require-preflight` is
 * what the service's CSRF prevention asks of a GET: a header no cross-site form or image can send.
 */
export async function graphqlQuery<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const params = new URLSearchParams({ query: query.replace(/\s+/g, ' ').trim(), variables: JSON.stringify(variables) });
  return send<T>(`/graphql?${params.toString()}`, { method: 'GET', headers: { 'apollo-require-preflight': 'true' } });
}

async function send<T>(url: string, init: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, credentials: 'same-origin' });
  } catch {
    throw new ApiError('The service did not answer.', 'NETWORK');
  }
  const body = (await response.json().catch(() => null)) as { data?: T; errors?: GraphQLErrorBody[] } | null;
  const first = body?.errors?.[0];
  if (first !== undefined) {
    const ext = first.extensions ?? {};
    throw new ApiError(first.message, ext.code ?? 'INTERNAL_SERVER_ERROR', ext.errorCode ?? null, ext.field ?? null, ext);
  }
  if (!response.ok || body?.data === undefined) throw new ApiError(`The service answered HTTP ${response.status}.`, 'NETWORK');
  return body.data;
}

/** A new idempotency key per user action, so that a retried click never changes twice. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}

/** A connection's page, as the service returns them. */
export interface Page<T> {
  readonly nodes: T[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
}

/** Every node of a connection, a page at a time, following endCursor. */
export async function allNodes<T>(page: (after: string | null) => Promise<Page<T>>): Promise<T[]> {
  const rows: T[] = [];
  let after: string | null = null;
  for (;;) {
    const next = await page(after);
    rows.push(...next.nodes);
    if (!next.pageInfo.hasNextPage || next.pageInfo.endCursor === null) return rows;
    after = next.pageInfo.endCursor;
  }
}
