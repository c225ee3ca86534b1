import { ADMIN_TOKEN, createTestApp, type TestApp } from '../utils/create-test-app.js';
import type { GraphqlError } from '../utils/graphql-client.js';

/** Small limits, so that tests can cross them with small documents and bodies. */
const MAX_QUERY_DEPTH = 3;
const MAX_BODY_BYTES = 4096;

interface RawResponse {
  readonly status: number;
  readonly body: { data?: unknown; errors?: GraphqlError[] };
  readonly text: string;
}

let counter = 0;
function unique(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}-${(++counter).toString(36)}`;
}

/** Asserts that nothing in a response looks like a stack trace or an internal error. */
function expectNoInternals(res: RawResponse): void {
  for (const error of res.body.errors ?? []) {
    expect(error.extensions?.stacktrace).toBeUndefined();
    expect(error.extensions?.exception).toBeUndefined();
  }
  expect(res.text).not.toMatch(/stacktrace|\bat .+\.(js|ts):\d+|node_modules|QueryFailedError/);
}

describe('request limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_MAX_QUERY_DEPTH: String(MAX_QUERY_DEPTH), SWITCHYARD_MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** An HTTP request to /graphql, with the admin token unless told otherwise; any status. */
  async function send(init: { method?: 'GET' | 'POST'; body?: string; query?: string; headers?: Record<string, string> }): Promise<RawResponse> {
    const url = new URL('/graphql', t.baseUrl);
    if (init.query !== undefined) url.searchParams.set('query', init.query);
    const res = await fetch(url, {
      method: init.method ?? 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...init.headers },
      body: init.body,
    });
    const text = await res.text();
    expect(res.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
    return { status: res.status, body: JSON.parse(text) as RawResponse['body'], text };
  }

  function postJson(payload: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
    return send({ body: JSON.stringify(payload), headers: { 'content-type': 'application/json', ...headers } });
  }

  async function sliceExists(key: string): Promise<boolean> {
    const res = await t.admin.request('query($key: String!) { slice(key: $key) { key } }', { key });
    if (res.errors?.length) {
      expect(res.errors[0]!.extensions?.errorCode).toBe('SLICE_NOT_FOUND');
      return false;
    }
    return true;
  }

  async function historyHead(): Promise<string | undefined> {
    const data = await t.admin.ok<{ history: { nodes: { sequence: string }[] } }>('{ history(first: 1) { nodes { sequence } } }');
    return data.history.nodes[0]?.sequence;
  }

  function expectTooDeep(res: RawResponse): void {
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors).toHaveLength(1);
    // GraphQL validation refuses it before execution; Apollo files every validation error under
    // GRAPHQL_VALIDATION_FAILED, and errorCode says which limit it was.
    expect(res.body.errors![0]!.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', errorCode: 'QUERY_TOO_DEEP', limit: MAX_QUERY_DEPTH });
    expectNoInternals(res);
  }

  describe('query depth', () => {
    it('answers a query exactly at the limit', async () => {
      const res = await postJson({ query: '{ slices(first: 1) { nodes { key } } }' });
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
    });

    it('refuses a query one level deeper with QUERY_TOO_DEEP', async () => {
      expectTooDeep(await postJson({ query: '{ slices { nodes { targeting { include } } } }' }));
    });

    it('follows fragments, named and inline, when measuring depth', async () => {
      expectTooDeep(
        await postJson({
          query: `query { ...Top }
            fragment Top on Query { slices { ...Page } }
            fragment Page on SliceConnection { nodes { targeting { include } } }`,
        }),
      );
      expectTooDeep(await postJson({ query: '{ slices { ... on SliceConnection { nodes { ... on Slice { targeting { include } } } } } }' }));
    });

    it('refuses deep introspection too', async () => {
      expectTooDeep(await postJson({ query: '{ __schema { types { fields { type { name } } } } }' }));
    });

    it('refuses a too-deep mutation before executing anything', async () => {
      const key = unique('too-deep');
      const head = await historyHead();
      expectTooDeep(
        await postJson({ query: 'mutation($key: String!) { createSlice(key: $key, percent: 5) { targeting { rules { segments } } } }', variables: { key } }),
      );
      expect(await sliceExists(key)).toBe(false);
      expect(await historyHead()).toBe(head);
    });
  });

  describe('body size', () => {
    // `padding` is not a declared variable: GraphQL ignores it, so only the body's size differs.
    const CREATE_SLICE = 'mutation($key: String!) { createSlice(key: $key) { key } }';

    it('accepts a body under the limit', async () => {
      const key = unique('under-limit');
      const res = await postJson({ query: CREATE_SLICE, variables: { key, padding: 'x'.repeat(MAX_BODY_BYTES - 512) } });
      expect(res.body.errors).toBeUndefined();
      expect(await sliceExists(key)).toBe(true);
    });

    it('refuses a body over the limit with 413 and a GraphQL-shaped PAYLOAD_TOO_LARGE, executing nothing', async () => {
      const key = unique('over-limit');
      const head = await historyHead();
      const res = await postJson({ query: CREATE_SLICE, variables: { key, padding: 'x'.repeat(MAX_BODY_BYTES) } });
      expect(res.status).toBe(413);
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors![0]).toEqual({
        message: expect.any(String),
        extensions: { code: 'PAYLOAD_TOO_LARGE', errorCode: 'PAYLOAD_TOO_LARGE' },
      });
      expectNoInternals(res);
      expect(await sliceExists(key)).toBe(false);
      expect(await historyHead()).toBe(head);
    });
  });

  describe("Apollo's CSRF prevention", () => {
    it('lets a POST with content-type application/json through', async () => {
      const res = await postJson({ query: '{ slices(first: 1) { nodes { key } } }' });
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
      'refuses a POST with content-type %s (a "simple" request a browser sends cross-site) before executing it',
      async (contentType) => {
        const key = unique('csrf');
        const res = await send({
          body: JSON.stringify({ query: 'mutation($key: String!) { createSlice(key: $key) { key } }', variables: { key } }),
          headers: { 'content-type': contentType },
        });
        expect(res.status).toBe(400);
        expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
        expectNoInternals(res);
        expect(await sliceExists(key)).toBe(false);
      },
    );

    it('refuses a GET query without a preflight header, and answers it with one', async () => {
      const query = '{ slices(first: 1) { nodes { key } } }';
      const refused = await send({ method: 'GET', query });
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
      expect(refused.body.data).toBeUndefined();

      const answered = await send({ method: 'GET', query, headers: { 'apollo-require-preflight': 'true' } });
      expect(answered.status).toBe(200);
      expect(answered.body.errors).toBeUndefined();
    });
  });

  describe('no stack traces, ever', () => {
    it.each<[string, () => Promise<RawResponse>, string]>([
      ['a syntax error', () => postJson({ query: '{ slices { ' }), 'GRAPHQL_PARSE_FAILED'],
      ['an unknown field', () => postJson({ query: '{ noSuchField }' }), 'GRAPHQL_VALIDATION_FAILED'],
      ['a variable of the wrong type', () => postJson({ query: 'query($first: Int!) { slices(first: $first) { nodes { key } } }', variables: { first: 'ten' } }), 'BAD_USER_INPUT'],
      ['an invalid argument', () => postJson({ query: '{ slices(first: 0) { nodes { key } } }' }), 'BAD_USER_INPUT'],
      ['a domain error', () => postJson({ query: '{ slice(key: "no-such-slice") { key } }' }), 'NOT_FOUND'],
      ['a missing token', () => send({ body: JSON.stringify({ query: '{ slices { nodes { key } } }' }), headers: { 'content-type': 'application/json', authorization: '' } }), 'UNAUTHENTICATED'],
      ['malformed JSON', () => send({ body: '{"query": ', headers: { 'content-type': 'application/json' } }), 'BAD_USER_INPUT'],
      ['an oversized body', () => postJson({ query: '{ slices { nodes { key } } }', variables: { pad: 'x'.repeat(MAX_BODY_BYTES) } }), 'PAYLOAD_TOO_LARGE'],
      ['a CSRF refusal', () => send({ body: '{}', headers: { 'content-type': 'text/plain' } }), 'BAD_REQUEST'],
    ])('%s', async (_label, call, code) => {
      const res = await call();
      expect(res.body.errors?.[0]?.extensions?.code).toBe(code);
      expectNoInternals(res);
    });
  });
});
