export interface GraphqlError {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: { readonly code?: string; readonly errorCode?: string; readonly [key: string]: unknown };
}

export interface GraphqlResponse<T> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: readonly GraphqlError[];
}

/** GraphQL over real HTTP (fetch), as any client would call the service. */
export class GraphqlClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | null,
  ) {}

  async request<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<GraphqlResponse<T>> {
    const res = await fetch(`${this.baseUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(this.token !== null ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T | null; errors?: GraphqlError[] };
    return { status: res.status, ...body };
  }

  /** Expects success and returns `data`; fails the test with the errors otherwise. */
  async ok<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await this.request<T>(query, variables);
    if (res.errors?.length || res.data == null) {
      throw new Error(`GraphQL errors: ${JSON.stringify(res.errors ?? res)}`);
    }
    return res.data;
  }

  /** Expects exactly one error and returns it (data is whatever came back). */
  async error(query: string, variables: Record<string, unknown> = {}): Promise<GraphqlError> {
    const res = await this.request(query, variables);
    if (!res.errors || res.errors.length === 0) throw new Error(`expected an error, got ${JSON.stringify(res.data)}`);
    return res.errors[0]!;
  }
}
