import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { buildSchema, type GraphQLArgument, type GraphQLInputType, type GraphQLSchema, isInputObjectType, isListType, isNonNullType, isScalarType } from 'graphql';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../utils/create-test-app.js';
import type { GraphqlClient, GraphqlResponse } from '../utils/graphql-client.js';
import { PlanRunner } from '../../src/plans/plan-runner.js';
import { uniqueKey } from '../utils/operations.js';

/**
 * Hostile text at every string argument of every mutation (issue 10, part 1).
 *
 * Each case sends one mutation, valid but for one string, which is generated: any plane, unpaired
 * surrogates, NUL, combining marks, right-to-left text, very long. The outcome must be one of:
 *  - a coded refusal (never INTERNAL_SERVER_ERROR) that wrote nothing at all (every table's
 *    fingerprint unchanged);
 *  - success, with `verifyHistory` ok and the string read back from history exactly as sent.
 * Text PostgreSQL cannot store exactly (NUL, an unpaired surrogate) must be refused, always.
 *
 * The string arguments come from the schema itself: a new mutation or argument without a
 * baseline below fails the coverage test instead of going unfuzzed.
 */

/** Runs per argument path; FUZZ_RUNS raises it for a longer hunt. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);

type Vars = Record<string, unknown>;
type Path = readonly (string | number)[];

interface Outcome {
  accepted: number;
  /** Refusals by errorCode (or Apollo's code when there is none). */
  refused: Map<string, number>;
}

describe('hostile text in every mutation argument', () => {
  let t: TestApp;
  let schema: GraphQLSchema;
  /** Plans that admin approves are authored by someone else (an author cannot approve its own). */
  let releaseManager: GraphqlClient;
  const outcomes = new Map<string, Outcome>();

  beforeAll(async () => {
    t = await createTestApp();
    // Plans are created and started below; the runner's looks would only add noise between cases.
    t.app.get(PlanRunner).stopLooking();
    releaseManager = t.as(await t.tokenFor('release-manager'));
    // The committed schema is the running one (test/e2e/schema checks that they are equal).
    schema = buildSchema(readFileSync('src/schema.graphql', 'utf8'));
  });
  afterAll(async () => {
    if (outcomes.size > 0) {
      const lines = [...outcomes].map(([path, o]) => `${path}: ${o.accepted} stored exactly, refused ${JSON.stringify(Object.fromEntries(o.refused))}`);
      console.log(`hostile text on ${t.database.engine} (${RUNS} runs per argument):\n${lines.join('\n')}`);
    }
    await t?.close();
  });

  // --- prerequisites, fresh for every case so that each can succeed --------------------------------

  async function slice(extra: Vars = {}): Promise<string> {
    const key = uniqueKey('fz');
    await t.admin.ok('mutation($key: String!, $tags: [String!]! = []) { createSlice(key: $key, tags: $tags, percent: 5) { key } }', { key, ...extra });
    return key;
  }
  async function segment(): Promise<string> {
    const key = uniqueKey('fzseg');
    await t.admin.ok('mutation($key: String!) { createSegment(key: $key, constraints: [{ attribute: "country", operator: IN, values: ["KE"] }]) { key } }', { key });
    return key;
  }
  async function token(): Promise<string> {
    const res = await t.admin.ok<{ createToken: { token: { id: string } } }>('mutation($name: String!) { createToken(name: $name, role: VIEWER) { token { id } } }', {
      name: uniqueKey('fztoken'),
    });
    return res.createToken.token.id;
  }
  const constraints = (): Vars[] => [{ attribute: 'country', operator: 'IN', values: ['KE', 'GH'] }];
  /** A PENDING plan on a new slice (by `author`), its second step needing an approval. */
  async function plan(author: GraphqlClient = t.admin): Promise<string> {
    const sliceKey = await slice();
    await author.ok('mutation($sliceKey: String!, $steps: [PlanStepInput!]!) { createPlan(sliceKey: $sliceKey, steps: $steps) { id } }', {
      sliceKey,
      steps: [
        { percent: 10, minDuration: '1d' },
        { percent: 50, minDuration: '1d', requiresApproval: true },
      ],
    });
    return sliceKey;
  }
  async function planIn(phase: 'RUNNING' | 'PAUSED'): Promise<string> {
    const sliceKey = await plan();
    await t.admin.ok('mutation($sliceKey: String!) { startPlan(sliceKey: $sliceKey, reason: "go") { phase } }', { sliceKey });
    if (phase === 'PAUSED') await t.admin.ok('mutation($sliceKey: String!) { pausePlan(sliceKey: $sliceKey) { phase } }', { sliceKey });
    return sliceKey;
  }
  /**
   * A recurring window that covers no slice (a tag no slice has) and is not on today; windows are
   * few by design (at most 100), so the oldest are deleted as the cases add more.
   */
  function freezeWindow(): Vars {
    return {
      key: uniqueKey('fzwin'),
      timeZone: 'Africa/Nairobi',
      tag: uniqueKey('fztag'),
      description: 'd',
      recurrence: { daysOfMonth: [31], weekdays: [7], at: '00:00', duration: '1d' },
    };
  }
  async function freezeRoom(): Promise<void> {
    const { freezeWindows } = await t.admin.ok<{ freezeWindows: { key: string }[] }>('{ freezeWindows { key } }');
    for (const w of freezeWindows.length > 80 ? freezeWindows : []) {
      await t.admin.ok('mutation($key: String!) { deleteFreezeWindow(key: $key, reason: "room") { key } }', { key: w.key });
    }
  }
  async function createdWindow(): Promise<Vars> {
    await freezeRoom();
    const vars = freezeWindow();
    await t.admin.ok(
      'mutation($key: String!, $timeZone: String!, $tag: String, $description: String!, $recurrence: FreezeRecurrenceInput) { createFreezeWindow(key: $key, timeZone: $timeZone, tag: $tag, description: $description, recurrence: $recurrence, reason: "r") { key } }',
      vars,
    );
    return vars;
  }

  /**
   * Valid variables for every mutation, with every list that holds strings non-empty, so that
   * every string path of the schema has a place in the baseline. Idempotency keys are unique, so
   * a generated one is never a replay of an earlier case.
   */
  const BASELINES: Record<string, () => Vars | Promise<Vars>> = {
    createSlice: async () => ({
      key: uniqueKey('fz'),
      description: 'd',
      owner: 'o',
      tags: ['t'],
      stickinessAttribute: 'accountId',
      targeting: { include: [await segment()], exclude: [await segment()], rules: [{ segments: [await segment()], percent: 10 }] },
    }),
    updateSlice: async () => ({ key: await slice(), description: 'd2', owner: 'o2', tags: ['t2'] }),
    setRollout: async () => ({ key: await slice(), percent: 20 }),
    setObservation: async () => ({ key: await slice(), watched: true, shadowPercent: 5, mismatchThresholdPercent: 0.05 }),
    setTargeting: async () => ({
      key: await slice(),
      include: [await segment()],
      exclude: [await segment()],
      rules: [{ segments: [await segment()], percent: 10 }],
      stickinessAttribute: 'tenantId',
    }),
    rollback: async () => ({ key: await slice(), reason: 'incident 42' }),
    rollbackAll: async () => {
      const tag = uniqueKey('fztag');
      await slice({ tags: [tag] });
      return { tag, reason: 'incident 43' };
    },
    resume: async () => {
      const key = await slice();
      await t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "r") { key } }', { key });
      return { key, reason: 'fixed' };
    },
    archiveSlice: async () => ({ key: await slice() }),
    rollbackSegment: async () => ({ key: await slice(), segment: await segment(), reason: 'kenya failing' }),
    resumeSegment: async () => {
      const key = await slice();
      const seg = await segment();
      await t.admin.ok('mutation($key: String!, $segment: String!) { rollbackSegment(key: $key, segment: $segment, reason: "r") { key } }', { key, segment: seg });
      return { key, segment: seg, reason: 'fixed' };
    },
    createSegment: () => ({ key: uniqueKey('fzseg'), description: 'd', constraints: constraints() }),
    updateSegment: async () => ({ key: await segment(), description: 'd2', constraints: constraints() }),
    deleteSegment: async () => ({ key: await segment() }),
    createToken: () => ({ name: uniqueKey('fztoken'), role: 'VIEWER' }),
    revokeToken: async () => ({ id: await token() }),
    checkpointHistory: () => ({}),
    createPlan: async () => ({
      sliceKey: await slice(),
      steps: [
        { percent: 10, minDuration: '1d', minNewCalls: 10 },
        { percent: 100, minDuration: '6h' },
      ],
      gates: { failureRate: { ceilingPercent: 2 }, mismatch: { thresholdPercent: 0.1 } },
    }),
    startPlan: async () => ({ sliceKey: await plan(), reason: 'go' }),
    pausePlan: async () => ({ sliceKey: await planIn('RUNNING') }),
    resumePlan: async () => ({ sliceKey: await planIn('PAUSED'), reason: 'go on' }),
    abortPlan: async () => ({ sliceKey: await plan() }),
    approvePlanStep: async () => ({ sliceKey: await plan(releaseManager), step: 2 }),
    createFreezeWindow: async () => (await freezeRoom(), freezeWindow()),
    updateFreezeWindow: async () => ({ ...(await createdWindow()), description: 'd2' }),
    deleteFreezeWindow: async () => ({ key: (await createdWindow()).key }),
  };
  /** Every mutation takes these too (ChangeArgs); reason is set where the baseline lacks it. */
  const withCommon = (vars: Vars): Vars => ({ reason: 'because', ...vars, idempotencyKey: uniqueKey('fzidem') });

  // --- the schema's string arguments -----------------------------------------------------------------

  function typeString(type: GraphQLInputType): string {
    return String(type);
  }

  /** Paths to every String / ID an argument can hold (first element of each list). */
  function stringPaths(arg: GraphQLArgument): Path[] {
    const out: Path[] = [];
    const walk = (type: GraphQLInputType, path: Path, depth: number): void => {
      if (depth > 6) return;
      const inner = isNonNullType(type) ? type.ofType : type;
      if (isListType(inner)) return walk(inner.ofType, [...path, 0], depth + 1);
      if (isScalarType(inner) && (inner.name === 'String' || inner.name === 'ID')) out.push(path);
      if (isInputObjectType(inner)) for (const field of Object.values(inner.getFields())) walk(field.type, [...path, field.name], depth + 1);
    };
    walk(arg.type, [arg.name], 0);
    return out;
  }

  function mutationFields() {
    return Object.values(schema.getMutationType()!.getFields());
  }

  function document(name: string, vars: Vars, literal: { arg: string; value: string } | null): string {
    const field = schema.getMutationType()!.getFields()[name]!;
    const args = field.args.filter((a) => a.name in vars && a.name !== literal?.arg);
    const decl = args.map((a) => `$${a.name}: ${typeString(a.type)}`).join(', ');
    const pass = args.map((a) => `${a.name}: $${a.name}`);
    // JSON.stringify writes a valid GraphQL string literal (the same escapes, \uXXXX for the rest).
    if (literal !== null) pass.push(`${literal.arg}: ${JSON.stringify(literal.value)}`);
    return `mutation${decl ? `(${decl})` : ''} { ${name}(${pass.join(', ')}) { __typename } }`;
  }

  function setAt(vars: Vars, path: Path, value: string): Vars {
    const copy = structuredClone(vars);
    let target: Record<string | number, unknown> = copy;
    for (const step of path.slice(0, -1)) {
      if (target[step] === undefined || target[step] === null) throw new Error(`baseline lacks ${path.join('.')}`);
      target = target[step] as Record<string | number, unknown>;
    }
    target[path[path.length - 1]!] = value;
    return copy;
  }

  /** Everything a refusal must leave alone: counts and versions of every table. */
  async function fingerprint(): Promise<string> {
    const rows: unknown[] = await t.dataSource.query(`
      SELECT (SELECT count(*) FROM slices) AS slices, (SELECT coalesce(sum(version), 0) FROM slices) AS slice_versions,
             (SELECT count(*) FROM segments) AS segments, (SELECT coalesce(sum(version), 0) FROM segments) AS segment_versions,
             (SELECT count(*) FROM slice_segments) AS uses,
             (SELECT count(*) FROM api_tokens) AS tokens, (SELECT count(*) FROM api_tokens WHERE revoked_at IS NOT NULL) AS revoked,
             (SELECT count(*) FROM plans) AS plans, (SELECT coalesce(sum(version), 0) FROM plans) AS plan_versions,
             (SELECT count(*) FROM freeze_windows) AS windows, (SELECT coalesce(sum(version), 0) FROM freeze_windows) AS window_versions,
             (SELECT count(*) FROM idempotency_keys) AS idempotency, (SELECT count(*) FROM history) AS history`);
    return JSON.stringify(rows[0]);
  }

  async function historyAfter(sequence: string): Promise<Record<string, unknown>[]> {
    const res = await t.admin.ok<{ history: { nodes: Record<string, unknown>[] } }>(
      'query { history(first: 50) { nodes { sequence sliceKey segmentKey action before after reason idempotencyKey } } }',
    );
    return res.history.nodes.filter((n) => BigInt(n.sequence as string) > BigInt(sequence));
  }

  async function head(): Promise<string> {
    const res = await t.admin.ok<{ history: { nodes: { sequence: string }[] } }>('query { history(first: 1) { nodes { sequence } } }');
    return res.history.nodes[0]?.sequence ?? '0';
  }

  function stringsIn(value: unknown, into: string[] = []): string[] {
    if (typeof value === 'string') into.push(value);
    else if (Array.isArray(value)) for (const v of value) stringsIn(v, into);
    else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        into.push(k);
        stringsIn(v, into);
      }
    }
    return into;
  }

  // --- generated text ----------------------------------------------------------------------------------

  const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
  /** Valid Unicode, the awkward kinds included. */
  const goodPiece = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }) },
    { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9._:/-]{0,20}$/) },
    // combining marks, right-to-left text and overrides, zero-width joiners, BOM, line separators
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        'e\u0301\u0300\u0302',
        'שלום',
        'مرحبا',
        '\u202Eevil\u202C',
        '\u200F\u200E',
        '👩‍👩‍👧‍👦',
        '\uFEFF',
        '\u2028\u2029',
        '\uFFFD',
        '\uFFFF',
        '\u{10FFFF}',
        '\u{1F600}',
        'Z̴̡̛͉̈́a̸̙͑l̶g̵o',
        '\t\n\r',
        '\\',
        '"',
        '</script>',
        '\u0001\u001f\u007f',
      ),
    },
  );
  /** What PostgreSQL cannot store exactly. */
  const badPiece = fc.oneof(loneSurrogate, fc.constant('\u0000'), fc.constant('\uD83D'), fc.constant('\uDE00x'));
  const goodText = fc.array(goodPiece, { minLength: 1, maxLength: 8 }).map((p) => p.join(''));
  const hostileText = fc.oneof(
    { weight: 5, arbitrary: goodText },
    // one bad piece somewhere in good text
    { weight: 4, arbitrary: fc.tuple(goodText, badPiece, fc.nat()).map(([text, bad, at]) => text.slice(0, at % (text.length + 1)) + bad + text.slice(at % (text.length + 1))) },
    // very long: up to three times the longest field the API takes
    { weight: 1, arbitrary: fc.tuple(goodPiece, fc.integer({ min: 200, max: 6000 })).map(([p, n]) => p.repeat(Math.ceil(n / p.length)).slice(0, n)) },
  );

  // --- the tests ---------------------------------------------------------------------------------------

  describe('the two doors: GraphQL documents and REST bodies', () => {
    interface Refusal {
      readonly status: number;
      readonly errors?: { extensions?: Record<string, unknown> }[];
    }
    async function post(path: string, body: string | Buffer, token = ADMIN_TOKEN): Promise<Refusal> {
      const res = await fetch(`${t.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      });
      return { status: res.status, ...((await res.json()) as object) };
    }
    function expectInvalid(res: Refusal, field: string): void {
      expect(res.status).toBe(400);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'INVALID_INPUT', field });
    }

    it('refuses a whole two-field mutation when its second field carries a NUL, writing nothing', async () => {
      const [a, b] = [uniqueKey('door'), uniqueKey('door')];
      const before = await fingerprint();
      const res = await post(
        '/graphql',
        JSON.stringify({
          query: `mutation { a: createSlice(key: "${a}") { key } b: createSlice(key: "${b}", description: "x\\u0000y") { key } }`,
        }),
      );
      expectInvalid(res, 'description');
      expect(res.errors?.[0]?.extensions?.fieldName).toBe('createSlice');
      expect(await fingerprint()).toBe(before);
    });

    it('checks a variable through its default when the request leaves it out', async () => {
      const res = await post(
        '/graphql',
        JSON.stringify({
          query: `mutation($d: String! = "\\u0000") { createSlice(key: "${uniqueKey('door')}", description: $d) { key } }`,
        }),
      );
      expectInvalid(res, 'description');
    });

    it('checks object keys inside JSON scalars, reads included', async () => {
      const res = await post(
        '/graphql',
        JSON.stringify({
          query: 'query($c: Context!) { evaluate(sliceKey: "nothing", context: $c) { path } }',
          variables: { c: { userId: '1', 'country\ud800': 'KE' } },
        }),
      );
      expectInvalid(res, 'context["country\\ud800"]');
    });

    it('refuses a body that is not UTF-8 before parsing it', async () => {
      const json = Buffer.from(JSON.stringify({ query: 'mutation { rollbackAll(reason: "xx") { count } }' }));
      json[json.indexOf('xx')] = 0xff;
      const before = await fingerprint();
      expectInvalid(await post('/graphql', json), 'body');
      expect(await fingerprint()).toBe(before);
    });

    it('refuses SDK usage reports and Unleash registrations with text that cannot be stored', async () => {
      const sdk = await t.tokenFor('sdk');
      const now = new Date().toISOString();
      const report = { appName: 'payments\ud83d', instanceId: 'i-1', bucket: { start: now, stop: now, slices: {} } };
      expectInvalid(await post('/sdk/v1/metrics', JSON.stringify(report), sdk), 'appName');
      const keyed = { ...report, appName: 'payments', bucket: { ...report.bucket, slices: { 'a\u0000': { NEW: 1, LEGACY: 0 } } } };
      expectInvalid(await post('/sdk/v1/metrics', JSON.stringify(keyed), sdk), 'bucket.slices["a\\u0000"]');
      const registration = { appName: 'payments', instanceId: 'i-1', sdkVersion: 'unleash-client-node:6\udc00', strategies: [], started: now, interval: 15000 };
      expectInvalid(await post('/api/client/register', JSON.stringify(registration), sdk), 'sdkVersion');
    });
  });

  it('reads back text that starts with a byte order mark exactly, and the chain stays whole', async () => {
    // PGlite's own node-postgres adapter dropped a leading U+FEFF when reading (pglite-connection.ts).
    const key = await slice();
    const reason = '\uFEFF\uFEFFincident 7';
    await t.admin.ok('mutation($key: String!, $reason: String!) { rollback(key: $key, reason: $reason) { key } }', { key, reason });
    await t.admin.ok('mutation($key: String!, $d: String) { updateSlice(key: $key, description: $d) { key } }', { key, d: '\uFEFF' });
    const res = await t.admin.ok<{ slice: { description: string }; history: { nodes: { reason: string }[] } }>(
      'query($key: String!) { slice(key: $key) { description } history(sliceKey: $key, first: 2) { nodes { reason } } }',
      { key },
    );
    expect(res.slice.description).toBe('\uFEFF');
    expect(res.history.nodes[1]!.reason).toBe(reason);
    expect((await t.admin.ok<{ verifyHistory: { ok: boolean } }>('query { verifyHistory { ok } }')).verifyHistory.ok).toBe(true);
  });

  it('has a baseline for every mutation, with a place for every string argument', async () => {
    const missing = mutationFields()
      .map((f) => f.name)
      .filter((name) => !(name in BASELINES));
    expect(missing).toEqual([]);
    for (const field of mutationFields()) {
      const vars = withCommon(await BASELINES[field.name]!());
      for (const arg of field.args) for (const path of stringPaths(arg)) expect(() => setAt(vars, path, 'x')).not.toThrow();
    }
  });

  it('refuses with a code and writes nothing, or stores exactly and keeps the chain whole', async () => {
    for (const field of mutationFields()) {
      for (const arg of field.args) {
        for (const path of stringPaths(arg)) {
          const label = `${field.name}.${path.join('.')}`;
          const tally: Outcome = { accepted: 0, refused: new Map() };
          outcomes.set(label, tally);
          await fc.assert(
            fc.asyncProperty(hostileText, fc.boolean(), async (text, asLiteral) => {
              const vars = setAt(withCommon(await BASELINES[field.name]!()), path, text);
              // Top-level arguments are sometimes written into the query text instead.
              const literal = asLiteral && path.length === 1 ? { arg: arg.name, value: text } : null;
              const before = await fingerprint();
              const sequence = await head();
              const res: GraphqlResponse<unknown> = await t.admin.request(document(field.name, vars, literal), vars);
              const storable = text.isWellFormed() && !text.includes('\u0000');
              if (res.errors?.length) {
                const code = String(res.errors[0]!.extensions?.errorCode ?? res.errors[0]!.extensions?.code);
                tally.refused.set(code, (tally.refused.get(code) ?? 0) + 1);
                for (const error of res.errors) {
                  expect(typeof error.extensions?.code).toBe('string');
                  expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
                }
                expect(res.status).toBeLessThan(500);
                expect(await fingerprint()).toBe(before);
                return;
              }
              tally.accepted++;
              expect(storable).toBe(true);
              const rows = await historyAfter(sequence);
              // A call that changed nothing (rollbackAll of a tag no slice has) records nothing to read back.
              if (rows.length === 0) expect(field.name).toBe('rollbackAll');
              else if (path[0] === 'reason') for (const row of rows) expect(row.reason).toBe(text);
              else if (path[0] === 'idempotencyKey') for (const row of rows) expect(row.idempotencyKey).toBe(text);
              else expect(rows.some((row) => stringsIn([row.sliceKey, row.segmentKey, row.before, row.after]).includes(text))).toBe(true);
              const verdict = await t.admin.ok<{ verifyHistory: { ok: boolean } }>('query { verifyHistory { ok } }');
              expect(verdict.verifyHistory.ok).toBe(true);
            }),
            { numRuns: RUNS, endOnFailure: true },
          );
        }
      }
    }
    expect(outcomes.size).toBeGreaterThan(40);
  }, 600_000);
});
