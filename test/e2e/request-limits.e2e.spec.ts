import { LIST, SLICE_TYPE_FIELDS, TRAFFIC_FIELDS } from '../../src/cli/commands/status.command.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../utils/create-test-app.js';
import type { GraphqlError } from '../utils/graphql-client.js';
import { createSegment, createSlice, SLICE_FIELDS, uniqueKey } from '../utils/operations.js';
import { readTraffic } from '../utils/traffic.js';

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
      expectTooDeep(await postJson({ query: 'mutation($key: String!) { createSlice(key: $key, percent: 5) { targeting { rules { segments } } } }', variables: { key } }));
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
      [
        'a missing token',
        () => send({ body: JSON.stringify({ query: '{ slices { nodes { key } } }' }), headers: { 'content-type': 'application/json', authorization: '' } }),
        'UNAUTHENTICATED',
      ],
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

/**
 * Hostile documents against the service as it ships (default limits): each is refused with its
 * code, before anything runs, in under 100 ms of wall time, while /health/live keeps answering;
 * and the biggest documents our own clients send still pass.
 */
describe('hostile documents under the default limits', () => {
  /** The issue's bound: a refusal takes less than this, and so does every health probe meanwhile. */
  const FAST_MS = 100;

  let t: TestApp;
  let sdkToken: string;
  let viewerToken: string;
  beforeAll(async () => {
    t = await createTestApp();
    sdkToken = await t.tokenFor('sdk');
    viewerToken = await t.tokenFor('viewer');
    // Warm the code paths once, so the timings below are the service's, not the JIT's first look.
    await t.admin.ok('{ slices(first: 1) { nodes { key } } }');
    await t.admin.request('{ a: verifyHistory { ok } b: verifyHistory { ok } }');
    await t.admin.request(doubling(20, 'a: verifyHistory { ok } __typename @skip(if: false)'));
  });
  afterAll(async () => {
    await t?.close();
  });

  /** `query { ...F<levels> }`, each fragment spreading the one below it twice: 2^levels copies of `leaf`. */
  function doubling(levels: number, leaf: string, on = 'Query'): string {
    const lines = [`query { ...F${levels} }`, `fragment F0 on ${on} { ${leaf} }`];
    for (let i = 1; i <= levels; i++) lines.push(`fragment F${i} on ${on} { ...F${i - 1} ...F${i - 1} }`);
    return lines.join('\n');
  }

  /** Probes /health/live back to back (one at a time) until stopped; resolves to each probe's latency. */
  function probeHealth(): { started: Promise<void>; stop: () => Promise<number[]> } {
    const latencies: number[] = [];
    let running = true;
    let first = () => {};
    const started = new Promise<void>((resolve) => (first = resolve));
    const loop = (async () => {
      while (running || latencies.length < 2) {
        const start = performance.now();
        const res = await fetch(`${t.baseUrl}/health/live`);
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        latencies.push(performance.now() - start);
        first();
      }
    })();
    return {
      started,
      stop: async () => {
        running = false;
        await loop;
        return latencies;
      },
    };
  }

  async function post(query: string, variables: Record<string, unknown>, token: string): Promise<RawResponse & { ms: number }> {
    const start = performance.now();
    const res = await fetch(new URL('/graphql', t.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    const ms = performance.now() - start;
    return { status: res.status, body: JSON.parse(text) as RawResponse['body'], text, ms };
  }

  const ids = (n: number) => Array.from({ length: n }, (_, i) => `user-${i}`);
  const EVALUATE = 'evaluate(sliceKey: "x", context: {}) { path }';
  const literalSegment = (key: string) =>
    `mutation { createSegment(key: "${key}", constraints: [{ attribute: "userId", operator: IN, values: [${ids(10_000)
      .map((id) => `"${id}"`)
      .join(', ')}] }]) { key } }`;
  const hostileSegmentKey = uniqueKey('hostile.literal');

  type Who = 'admin' | 'sdk';
  const HOSTILE: [string, string, Who, string, string][] = [
    // [what, document, token, extensions.code, extensions.errorCode]
    ['30 levels of doubled fragment spreads (a billion verifyHistory)', doubling(30, 'verifyHistory { ok }'), 'admin', 'GRAPHQL_VALIDATION_FAILED', 'QUERY_TOO_COMPLEX'],
    ['the same with an sdk token, 60 levels', doubling(60, EVALUATE), 'sdk', 'GRAPHQL_VALIDATION_FAILED', 'QUERY_TOO_COMPLEX'],
    ['1,000 aliases, through doubled fragments', doubling(10, `v: ${EVALUATE}`), 'sdk', 'GRAPHQL_VALIDATION_FAILED', 'TOO_MANY_ALIASES'],
    [
      '1,000 aliased verifyHistory, written out',
      `{ ${Array.from({ length: 1_000 }, (_, i) => `v${i}: verifyHistory { ok }`).join(' ')} }`,
      'admin',
      'GRAPHQL_PARSE_FAILED',
      'TOO_MANY_TOKENS',
    ],
    ['30 directives', `{ ${Array.from({ length: 30 }, (_, i) => `t${i}: __typename @include(if: true)`).join(' ')} }`, 'admin', 'GRAPHQL_VALIDATION_FAILED', 'TOO_MANY_DIRECTIVES'],
    ['a thousand directives, through doubled fragments', doubling(10, '__typename @skip(if: false)'), 'sdk', 'GRAPHQL_VALIDATION_FAILED', 'TOO_MANY_DIRECTIVES'],
    ['100 levels of nesting', `{ __type(name: "Slice") { ${'ofType { '.repeat(100)}name${' }'.repeat(100)} } }`, 'admin', 'GRAPHQL_VALIDATION_FAILED', 'QUERY_TOO_DEEP'],
    [
      '40 levels of nesting, each doubled',
      [
        'query { __type(name: "Slice") { ...T40 } }',
        'fragment T0 on __Type { name }',
        ...Array.from({ length: 40 }, (_, i) => `fragment T${i + 1} on __Type { ofType { ...T${i} ...T${i} } }`),
      ].join('\n'),
      'admin',
      'GRAPHQL_VALIDATION_FAILED',
      'QUERY_TOO_DEEP',
    ],
    ['200,000 tokens', `{ slices { nodes { ${'key '.repeat(200_000)}} } }`, 'sdk', 'GRAPHQL_PARSE_FAILED', 'TOO_MANY_TOKENS'],
    ['a 10,000-id list written in the document', literalSegment(hostileSegmentKey), 'admin', 'GRAPHQL_PARSE_FAILED', 'TOO_MANY_TOKENS'],
    ['two verifyHistory', '{ a: verifyHistory { ok } b: verifyHistory { checkedRows } }', 'admin', 'GRAPHQL_VALIDATION_FAILED', 'FIELD_LIMIT_EXCEEDED'],
    [
      'a second verifyHistory hidden in a fragment',
      '{ verifyHistory { ok } ...V } fragment V on Query { again: verifyHistory { ok } }',
      'admin',
      'GRAPHQL_VALIDATION_FAILED',
      'FIELD_LIMIT_EXCEEDED',
    ],
    [
      'a day of minute buckets for each of 500 slices',
      '{ slices(first: 500) { nodes { traffic { buckets(minutes: 1440) { start new legacy } } } } }',
      'admin',
      'GRAPHQL_VALIDATION_FAILED',
      'QUERY_TOO_COMPLEX',
    ],
    [
      'a per-slice query for each of 500 slices, three times over',
      '{ slices(first: 500) { nodes { traffic { a: byApp(minutes: 1) { appName } b: byApp(minutes: 2) { appName } c: byApp(minutes: 3) { appName } } } } }',
      'admin',
      'GRAPHQL_VALIDATION_FAILED',
      'QUERY_TOO_COMPLEX',
    ],
    [
      'a negative page size offered to pay for the rest',
      '{ history(first: -100000000) { nodes { hash } } slices(first: 500) { nodes { traffic { buckets(minutes: 1440) { new } } } } }',
      'admin',
      'GRAPHQL_VALIDATION_FAILED',
      'QUERY_TOO_COMPLEX',
    ],
    [
      'a page size in a variable',
      'query($n: Int!) { slices(first: $n) { nodes { traffic { buckets(minutes: 1440) { new } } } } }',
      'admin',
      'GRAPHQL_VALIDATION_FAILED',
      'QUERY_TOO_COMPLEX',
    ],
    ['introspection with an sdk token', '{ __schema { types { name } } }', 'sdk', 'FORBIDDEN', 'INTROSPECTION_FORBIDDEN'],
    ['__type with an sdk token', '{ __type(name: "Slice") { fields { name } } }', 'sdk', 'FORBIDDEN', 'INTROSPECTION_FORBIDDEN'],
    ['introspection in a fragment, with an sdk token', 'query { ...I } fragment I on Query { __schema { queryType { name } } }', 'sdk', 'FORBIDDEN', 'INTROSPECTION_FORBIDDEN'],
  ];
  const STATUS: Record<string, number> = { GRAPHQL_VALIDATION_FAILED: 400, GRAPHQL_PARSE_FAILED: 400, FORBIDDEN: 403 };

  it.each(HOSTILE)('refuses %s fast, running nothing, while /health/live answers', async (what, query, who, code, errorCode) => {
    // Up to five tries for the timing (never for the answer), half a second apart: the test machine
    // is shared, and other work only ever adds time (CI once saw three back-to-back tries of a
    // 15 ms refusal all take over 175 ms while the other Jest worker was busy). A document that
    // stalls the service is slow every time, so a retry cannot hide a stall.
    const walls: number[] = [];
    for (let attempt = 0; attempt < 5 && !(Math.min(...walls) < FAST_MS); attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 500));
      const probe = probeHealth();
      await probe.started;
      const res = await post(query, { n: 500 }, who === 'admin' ? ADMIN_TOKEN : sdkToken);
      const health = await probe.stop();

      expect(res.status).toBe(STATUS[code]);
      expect(res.body.data).toBeUndefined();
      expect(res.body.errors!.length).toBeGreaterThan(0);
      // Every error says which refusal it is; the one this document is built to hit is among them.
      for (const error of res.body.errors!) {
        expect(error.extensions).toMatchObject({ code, errorCode: expect.any(String) });
      }
      expect(res.body.errors!.map((e) => e.extensions?.errorCode)).toContain(errorCode);
      expectNoInternals(res);
      // The request's wall time, and every health probe answered while it ran.
      walls.push(Math.max(res.ms, ...health));
      if (process.env.LIMITS_TIMINGS) console.log(`${what}: ${res.ms.toFixed(1)} ms, health probes ${health.map((h) => h.toFixed(0)).join(' ')} ms`);
    }
    expect(Math.min(...walls)).toBeLessThan(FAST_MS);
  });

  it('wrote nothing for the refused literal list', async () => {
    const error = await t.admin.error('query($key: String!) { segment(key: $key) { key } }', { key: hostileSegmentKey });
    expect(error.extensions?.errorCode).toBe('SEGMENT_NOT_FOUND');
  });

  it('hides field suggestions from sdk tokens, not from roles that may introspect', async () => {
    const typo = '{ evaluat(sliceKey: "x", context: {}) { path } }';
    const asSdk = await t.as(sdkToken).error(typo);
    const asViewer = await t.as(viewerToken).error(typo);
    expect(asSdk.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(asViewer.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(asViewer.message).toMatch(/Did you mean/);
    expect(asSdk.message).not.toMatch(/Did you mean|evaluate/);
  });

  describe('what our own clients send still passes', () => {
    it('the CLI: status (a 500-slice page, one slice with its traffic, the schema probe) as a viewer', async () => {
      const viewer = t.as(viewerToken);
      const key = uniqueKey('limits.cli');
      await createSlice(t.admin, { key, percent: 5 });
      await viewer.ok(LIST, { first: 500, after: null, tag: null, state: null });
      await viewer.ok(SLICE_TYPE_FIELDS);
      await viewer.ok(`query($key: String!) { slice(key: $key) { ${SLICE_FIELDS} ${TRAFFIC_FIELDS} } }`, { key });
    });

    it('a segment of 10,000 ids sent as a variable', async () => {
      const key = uniqueKey('limits.big-segment');
      await createSegment(t.admin, key, [{ attribute: 'userId', operator: 'IN', values: ids(10_000) }]);
      const data = await t.admin.ok<{ segment: { constraints: { values: string[] }[] } }>('query($key: String!) { segment(key: $key) { constraints { values } } }', { key });
      expect(data.segment.constraints[0]!.values).toHaveLength(10_000);
    });

    it('the widest history page, every segment with its users, a day of traffic, and one verifyHistory', async () => {
      const key = uniqueKey('limits.traffic');
      await createSlice(t.admin, { key });
      await t.admin.ok(
        `{ history(first: 500) { nodes { sequence recordedAt action actor reason sliceKey segmentKey idempotencyKey requestId before after prevHash hash }
             pageInfo { endCursor hasNextPage } } }`,
      );
      await t.admin.ok('{ segments(first: 500) { nodes { key usedBy } } }');
      await readTraffic(t.admin, key, { minutes: 1440, within: 7 * 1440 });
      await t.admin.ok('{ verifyHistory { ok checkedRows firstBrokenSequence headHash } }');
    });

    it('introspection by the roles that may read the schema, and __typename by anyone', async () => {
      await t.as(viewerToken).ok('{ __schema { queryType { name } mutationType { name } types { name kind fields { name } } } }');
      // (an unknown slice is LEGACY, not an error)
      await t.as(sdkToken).ok(`{ __typename ${EVALUATE} }`);
    });
  });
});

describe('with the token limit raised to its maximum', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_MAX_QUERY_TOKENS: '10000' });
  });
  afterAll(async () => {
    await t?.close();
  });

  // 2,000 fields of one name: graphql-js compares them pairwise until its work budget runs out
  // (0.2-0.3 s here; the default token limit keeps documents far below that).
  it("names graphql-js's own work budget running out QUERY_TOO_COMPLEX", async () => {
    const error = await t.admin.error(`{ ${'verifyHistory { ok } '.repeat(2_000)}}`);
    expect(error.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', errorCode: 'QUERY_TOO_COMPLEX' });
  });

  it('still refuses 1,000 aliases written out, by the alias limit', async () => {
    const error = await t.admin.error(`{ ${Array.from({ length: 1_000 }, (_, i) => `v${i}: verifyHistory { ok }`).join(' ')} }`);
    expect(error.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', errorCode: 'TOO_MANY_ALIASES', limit: 20 });
  });
});
