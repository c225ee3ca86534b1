import { compileSnapshot, type SegmentDefinition } from '@switchyard/client-sdk/core';
import { SwitchyardProvider } from '@switchyard/client-sdk/openfeature';
import { nextChange } from '../../client-sdk/src/testing/wait-for.js';
import { ClientFactory } from '../../client-sdk/src/testing/fixtures.js';
import { HistoryService } from '../../src/history/history.service.js';
import { SlicesRepository } from '../../src/slices/slices.repository.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSegment, createSlice, evaluate, SLICE_FIELDS, type SliceView, sliceHistory, uniqueKey } from '../utils/operations.js';
import { sliceServed } from '../utils/traffic.js';

type View = SliceView & { rolledBackSegments: string[] };
const FIELDS = `${SLICE_FIELDS} rolledBackSegments`;
const ROLLBACK_SEGMENT = `mutation($key: String!, $segment: String!, $reason: String!, $idempotencyKey: String) {
  rollbackSegment(key: $key, segment: $segment, reason: $reason, idempotencyKey: $idempotencyKey) { ${FIELDS} } }`;
const RESUME_SEGMENT = `mutation($key: String!, $segment: String!, $reason: String, $freezeOverride: String) {
  resumeSegment(key: $key, segment: $segment, reason: $reason, freezeOverride: $freezeOverride) { ${FIELDS} } }`;
const ROLLBACK = `mutation($key: String!) { rollback(key: $key, reason: "whole slice") { ${FIELDS} } }`;
const RESUME = `mutation($key: String!) { resume(key: $key, reason: "whole slice back") { ${FIELDS} } }`;

/**
 * rollbackSegment / resumeSegment (docs/segment-rollback.md), through GraphQL, on the engine the
 * run uses (PGlite, or PostgreSQL with DATABASE_URL): every cell of the truth table there.
 */
describe('segment rollback', () => {
  let t: TestApp;
  let responder: string;
  let releaseManager: string;
  beforeAll(async () => {
    t = await createTestApp();
    responder = await t.tokenFor('incident-responder', 'on-call-sre');
    releaseManager = await t.tokenFor('release-manager', 'rm');
  });
  afterAll(async () => {
    await t?.close();
  });

  const KE = { userId: 'ke-1', country: 'KE' };
  const GH = { userId: 'gh-1', country: 'GH' };

  /** Kenya and Ghana at 100 % by rules, staff included: Kenya's subjects are on NEW until rolled back. */
  async function configured(): Promise<{ slice: View; kenya: string; ghana: string; staff: string }> {
    const kenya = uniqueKey('kenya');
    const ghana = uniqueKey('ghana');
    const staff = uniqueKey('staff');
    await createSegment(t.admin, kenya, [{ attribute: 'country', operator: 'IN', values: ['KE'] }]);
    await createSegment(t.admin, ghana, [{ attribute: 'country', operator: 'IN', values: ['GH'] }]);
    await createSegment(t.admin, staff, [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@switchyard.dev'] }]);
    const slice = (await createSlice(t.admin, {
      key: uniqueKey('payments.provider'),
      percent: 25,
      targeting: {
        include: [staff],
        exclude: [],
        rules: [
          { segments: [kenya], percent: 100 },
          { segments: [ghana], percent: 100 },
        ],
      },
    })) as View;
    return { slice, kenya, ghana, staff };
  }

  const rollbackSegment = async (token: string, key: string, segment: string, reason = 'M-Pesa callbacks failing in Kenya') =>
    (await t.as(token).ok<{ rollbackSegment: View }>(ROLLBACK_SEGMENT, { key, segment, reason })).rollbackSegment;
  const resumeSegment = async (key: string, segment: string, reason = 'fixed') =>
    (await t.admin.ok<{ resumeSegment: View }>(RESUME_SEGMENT, { key, segment, reason })).resumeSegment;
  const reasonOf = async (key: string, context: Record<string, string>) => (await evaluate(t.admin, key, context)).reason;

  it('sends the segment to LEGACY in one call by an incident responder, the rest untouched, with its history row', async () => {
    const { slice, kenya } = await configured();
    expect(await evaluate(t.admin, slice.key, KE)).toMatchObject({ path: 'NEW', reason: 'RULE' });
    const after = await rollbackSegment(responder, slice.key, kenya);
    expect(after).toMatchObject({ state: 'ACTIVE', version: 2, percent: 25, targeting: slice.targeting, rolledBackSegments: [kenya] });
    expect(await evaluate(t.admin, slice.key, { ...KE, email: 'ana@switchyard.dev' })).toEqual({ path: 'LEGACY', reason: 'SEGMENT_ROLLED_BACK', ruleIndex: null });
    expect(await evaluate(t.admin, slice.key, GH)).toEqual({ path: 'NEW', reason: 'RULE', ruleIndex: 1 });
    const [row] = await sliceHistory(t.admin, slice.key);
    expect(row).toMatchObject({ action: 'SEGMENT_ROLLED_BACK', actor: 'on-call-sre', reason: 'M-Pesa callbacks failing in Kenya' });
    expect((row!.before as View).rolledBackSegments).toBeUndefined();
    expect((row!.after as View).rolledBackSegments).toEqual([kenya]);
  });

  it('is idempotent, and takes several segments on one slice (kept sorted)', async () => {
    const { slice, kenya, ghana } = await configured();
    await rollbackSegment(responder, slice.key, kenya);
    const again = await rollbackSegment(responder, slice.key, kenya, 'again');
    expect(again).toMatchObject({ version: 2, rolledBackSegments: [kenya] });
    const both = await rollbackSegment(responder, slice.key, ghana);
    expect(both.rolledBackSegments).toEqual([kenya, ghana].sort());
    expect(await reasonOf(slice.key, GH)).toBe('SEGMENT_ROLLED_BACK');
    expect((await sliceHistory(t.admin, slice.key)).map((h) => h.action)).toEqual(['SEGMENT_ROLLED_BACK', 'SEGMENT_ROLLED_BACK', 'SLICE_CREATED']);
    // An idempotency key: the retry returns the first result and writes nothing more.
    const key = `retry-${slice.key}`;
    await t.admin.ok(RESUME_SEGMENT, { key: slice.key, segment: ghana, reason: 'ok' });
    const first = (await t.admin.ok<{ rollbackSegment: View }>(ROLLBACK_SEGMENT, { key: slice.key, segment: ghana, reason: 'r', idempotencyKey: key })).rollbackSegment;
    const retry = (await t.admin.ok<{ rollbackSegment: View }>(ROLLBACK_SEGMENT, { key: slice.key, segment: ghana, reason: 'r', idempotencyKey: key })).rollbackSegment;
    expect(retry).toEqual(first);
  });

  it('refuses an unknown segment, a bad key, a blank reason, and resume by a responder, writing nothing', async () => {
    const { slice, kenya } = await configured();
    const unknown = await t.as(responder).error(ROLLBACK_SEGMENT, { key: slice.key, segment: 'no.such.segment', reason: 'r' });
    expect(unknown.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'UNKNOWN_SEGMENT_REFERENCE', field: 'segment' });
    const bad = await t.as(responder).error(ROLLBACK_SEGMENT, { key: slice.key, segment: 'Not A Key', reason: 'r' });
    expect(bad.extensions?.code).toBe('BAD_USER_INPUT');
    const blank = await t.as(responder).error(ROLLBACK_SEGMENT, { key: slice.key, segment: kenya, reason: '  ' });
    expect(blank.extensions?.code).toBe('BAD_USER_INPUT');
    const noSlice = await t.as(responder).error(ROLLBACK_SEGMENT, { key: 'no.such.slice', segment: kenya, reason: 'r' });
    expect(noSlice.extensions).toMatchObject({ code: 'NOT_FOUND', errorCode: 'SLICE_NOT_FOUND' });
    await rollbackSegment(responder, slice.key, kenya);
    const forbidden = await t.as(responder).error(RESUME_SEGMENT, { key: slice.key, segment: kenya, reason: 'r' });
    expect(forbidden.extensions?.code).toBe('FORBIDDEN');
    const notRolledBack = await t.admin.error(RESUME_SEGMENT, { key: slice.key, segment: slice.targeting.include[0], reason: 'r' });
    expect(notRolledBack.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SLICE_SEGMENT_NOT_ROLLED_BACK' });
    const history = await sliceHistory(t.admin, slice.key);
    expect(history.map((h) => h.action)).toEqual(['SEGMENT_ROLLED_BACK', 'SLICE_CREATED']);
  });

  it('resumeSegment (release manager) restores exactly the decisions the configuration gives, whatever changed in between', async () => {
    const { slice, kenya, ghana, staff } = await configured();
    const subjects = Array.from({ length: 40 }, (_, i) => ({
      userId: `u${i}`,
      country: ['KE', 'GH', 'UG'][i % 3]!,
      ...(i % 4 === 0 ? { email: `p${i}@switchyard.dev` } : {}),
    }));
    const decisions = async () => Promise.all(subjects.map((s) => evaluate(t.admin, slice.key, s)));
    const before = await decisions();
    await rollbackSegment(responder, slice.key, kenya);
    const resumed = (await t.as(releaseManager).ok<{ resumeSegment: View }>(RESUME_SEGMENT, { key: slice.key, segment: kenya, reason: 'fixed' })).resumeSegment;
    expect(resumed.rolledBackSegments).toEqual([]);
    expect(await decisions()).toEqual(before);

    // Rolled back again, and the release manager changes the rollout and the rules meanwhile: the
    // resumed segment decides as the configuration now says, as the core computes it.
    await rollbackSegment(responder, slice.key, kenya);
    await t.admin.ok(`mutation($key: String!, $t: [RuleInput!]!, $i: [String!]!) { setTargeting(key: $key, include: $i, exclude: [], rules: $t, reason: "r") { key } }`, {
      key: slice.key,
      i: [staff],
      t: [
        { segments: [kenya], percent: 40 },
        { segments: [ghana], percent: 100 },
      ],
    });
    const now = await resumeSegment(slice.key, kenya);
    const segments: SegmentDefinition[] = [
      { key: kenya, constraints: [{ attribute: 'country', operator: 'IN', values: ['KE'] }] },
      { key: ghana, constraints: [{ attribute: 'country', operator: 'IN', values: ['GH'] }] },
      { key: staff, constraints: [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@switchyard.dev'] }] },
    ];
    const core = compileSnapshot({
      revision: 1,
      segments,
      slices: [
        {
          key: slice.key,
          state: 'ACTIVE',
          basisPoints: now.basisPoints,
          stickinessAttribute: 'userId',
          targeting: { include: now.targeting.include, exclude: [], rules: now.targeting.rules },
        },
      ],
    });
    for (const s of subjects) {
      const d = core.explain(slice.key, s);
      expect(await evaluate(t.admin, slice.key, s)).toEqual({ ...d, ruleIndex: d.ruleIndex ?? null });
    }
  });

  // docs/segment-rollback.md, "Truth table": every cell, reached by every order of the calls.
  it('composes with a whole-slice rollback and resume: every cell of the truth table', async () => {
    const expectCell = async (key: string, ke: string, gh: string) => {
      expect([await reasonOf(key, KE), await reasonOf(key, GH)]).toEqual([ke, gh]);
    };
    // ACTIVE, none -> segment -> slice rolled back -> slice resumed (segment kept) -> segment resumed
    const a = await configured();
    await expectCell(a.slice.key, 'RULE', 'RULE');
    await rollbackSegment(responder, a.slice.key, a.kenya);
    await expectCell(a.slice.key, 'SEGMENT_ROLLED_BACK', 'RULE');
    expect((await t.as(responder).ok<{ rollback: View }>(ROLLBACK, { key: a.slice.key })).rollback).toMatchObject({ state: 'ROLLED_BACK', rolledBackSegments: [a.kenya] });
    await expectCell(a.slice.key, 'ROLLED_BACK', 'ROLLED_BACK');
    expect((await t.admin.ok<{ resume: View }>(RESUME, { key: a.slice.key })).resume).toMatchObject({ state: 'ACTIVE', rolledBackSegments: [a.kenya] });
    await expectCell(a.slice.key, 'SEGMENT_ROLLED_BACK', 'RULE');
    await resumeSegment(a.slice.key, a.kenya);
    await expectCell(a.slice.key, 'RULE', 'RULE');

    // ROLLED_BACK first -> segment rolled back on top (recorded) -> segment resumed (still rolled back) -> resume
    const b = await configured();
    await t.as(responder).ok(ROLLBACK, { key: b.slice.key });
    expect(await rollbackSegment(responder, b.slice.key, b.kenya)).toMatchObject({ state: 'ROLLED_BACK', rolledBackSegments: [b.kenya] });
    await expectCell(b.slice.key, 'ROLLED_BACK', 'ROLLED_BACK');
    expect(await resumeSegment(b.slice.key, b.kenya)).toMatchObject({ state: 'ROLLED_BACK', rolledBackSegments: [] });
    await expectCell(b.slice.key, 'ROLLED_BACK', 'ROLLED_BACK');
    await t.admin.ok(RESUME, { key: b.slice.key });
    await expectCell(b.slice.key, 'RULE', 'RULE');

    // rolled back with the segment, then resumed: the segment stays; rollbackAll keeps it too
    const c = await configured();
    await t.as(responder).ok(ROLLBACK, { key: c.slice.key });
    await rollbackSegment(responder, c.slice.key, c.kenya);
    await t.admin.ok(RESUME, { key: c.slice.key });
    await expectCell(c.slice.key, 'SEGMENT_ROLLED_BACK', 'RULE');

    // ARCHIVED: a segment rollback writes nothing, a segment resume is refused
    const d = await configured();
    await rollbackSegment(responder, d.slice.key, d.kenya);
    await t.admin.ok('mutation($key: String!) { archiveSlice(key: $key, reason: "done") { key } }', { key: d.slice.key });
    const archived = await rollbackSegment(responder, d.slice.key, d.ghana);
    expect(archived).toMatchObject({ state: 'ARCHIVED', rolledBackSegments: [d.kenya] });
    await expectCell(d.slice.key, 'ARCHIVED', 'ARCHIVED');
    const refused = await t.admin.error(RESUME_SEGMENT, { key: d.slice.key, segment: d.kenya, reason: 'r' });
    expect(refused.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SLICE_ARCHIVED' });
  });

  it('refuses to delete a rolled-back segment; a changed segment changes who is rolled back', async () => {
    const { slice } = await configured();
    const uganda = uniqueKey('uganda');
    await createSegment(t.admin, uganda, [{ attribute: 'country', operator: 'IN', values: ['UG'] }]);
    await rollbackSegment(responder, slice.key, uganda);
    const del = await t.admin.error('mutation($key: String!) { deleteSegment(key: $key, reason: "r") { key } }', { key: uganda });
    expect(del.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SEGMENT_IN_USE' });
    expect(await reasonOf(slice.key, { userId: 'u1', country: 'UG' })).toBe('SEGMENT_ROLLED_BACK');
    await t.admin.ok('mutation($key: String!, $c: [ConstraintInput!]!) { updateSegment(key: $key, constraints: $c, reason: "r") { key } }', {
      key: uganda,
      c: [{ attribute: 'country', operator: 'IN', values: ['KE'] }],
    });
    expect(await reasonOf(slice.key, KE)).toBe('SEGMENT_ROLLED_BACK');
    expect(await reasonOf(slice.key, { userId: 'u1', country: 'UG' })).toBe('ROLLOUT');
    await resumeSegment(slice.key, uganda);
    await t.admin.ok('mutation($key: String!) { deleteSegment(key: $key, reason: "r") { key } }', { key: uganda });
  });

  it('is never blocked by a freeze window; resumeSegment is, like resume', async () => {
    const { slice, kenya } = await configured();
    const tag = `frz-${Date.now().toString(36)}`;
    await t.admin.ok('mutation($key: String!, $tags: [String!]) { updateSlice(key: $key, tags: $tags) { key } }', { key: slice.key, tags: [tag] });
    await t.admin.ok(
      `mutation($key: String!, $from: DateTime, $until: DateTime, $tag: String) { createFreezeWindow(key: $key, timeZone: "UTC", from: $from, until: $until, tag: $tag, reason: "r") { key } }`,
      { key: `w-${tag}`, tag, from: new Date(Date.now() - 3_600_000).toISOString(), until: new Date(Date.now() + 3_600_000).toISOString() },
    );
    await rollbackSegment(responder, slice.key, kenya);
    const frozen = await t.admin.error(RESUME_SEGMENT, { key: slice.key, segment: kenya, reason: 'r' });
    expect(frozen.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'FREEZE_WINDOW' });
    const overridden = await t.admin.ok<{ resumeSegment: View }>(RESUME_SEGMENT, { key: slice.key, segment: kenya, reason: 'r', freezeOverride: 'incident over, CAB ok' });
    expect(overridden.resumeSegment.rolledBackSegments).toEqual([]);
  });

  it('pauses a running plan on the slice in the same change, and is not refused by it', async () => {
    const { slice, kenya } = await configured();
    await sliceServed(t.app, slice.key);
    await t.admin.ok(`mutation($sliceKey: String!, $steps: [PlanStepInput!]!) { createPlan(sliceKey: $sliceKey, steps: $steps) { id } }`, {
      sliceKey: slice.key,
      steps: [
        { percent: 30, minDuration: '30m' },
        { percent: 100, minDuration: '30m' },
      ],
    });
    await t.admin.ok(`mutation($sliceKey: String!) { startPlan(sliceKey: $sliceKey, reason: "go") { phase } }`, { sliceKey: slice.key });
    const resumedByHand = await t.admin.error(RESUME_SEGMENT, { key: slice.key, segment: kenya, reason: 'r' });
    expect(resumedByHand.extensions?.errorCode).toBe('SLICE_SEGMENT_NOT_ROLLED_BACK');
    await rollbackSegment(responder, slice.key, kenya);
    const plan = await t.admin.ok<{ plan: { phase: string } }>('query($k: String!) { plan(sliceKey: $k) { phase } }', { k: slice.key });
    expect(plan.plan.phase).toBe('PAUSED');
    const rows = await t.admin.ok<{ history: { nodes: { action: string; reason: string | null }[] } }>('query { history(first: 3) { nodes { action reason } } }');
    expect(rows.history.nodes.map((n) => n.action)).toEqual(expect.arrayContaining(['PLAN_PAUSED', 'SEGMENT_ROLLED_BACK']));
    // Resumed by hand while the plan runs again: refused, like any exposure change under a plan.
    await t.admin.ok(`mutation($sliceKey: String!) { resumePlan(sliceKey: $sliceKey, reason: "rest of the slice is fine") { phase } }`, { sliceKey: slice.key });
    const underPlan = await t.admin.error(RESUME_SEGMENT, { key: slice.key, segment: kenya, reason: 'r' });
    expect(underPlan.extensions?.errorCode).toBe('PLAN_RUNNING');
  });

  it('reaches a streaming SDK as a delta of the one slice (the path of a slice rollback); explain and OpenFeature say why', async () => {
    const sdks = new ClientFactory({ appName: 'segment-rollback-e2e', initTimeoutMs: 5_000 });
    try {
      const { slice, kenya } = await configured();
      const client = await sdks.create(t.baseUrl, { token: await t.tokenFor('sdk') });
      expect(client.explain(slice.key, KE)).toMatchObject({ path: 'NEW', reason: 'RULE' });
      const change = nextChange(client, (e) => e.changedSlices.includes(slice.key), 10_000);
      await rollbackSegment(responder, slice.key, kenya);
      expect((await change).changedSlices).toEqual([slice.key]);
      expect(client.explain(slice.key, KE)).toEqual({ path: 'LEGACY', reason: 'SEGMENT_ROLLED_BACK' });
      expect(client.explain(slice.key, GH)).toEqual({ path: 'NEW', reason: 'RULE', ruleIndex: 1 });

      const provider = new SwitchyardProvider(client);
      const details = await provider.resolveBooleanEvaluation(slice.key, true, { targetingKey: 'ke-1', userId: 'ke-1', country: 'KE' });
      expect(details).toMatchObject({ value: false, reason: 'DISABLED', flagMetadata: { switchyardReason: 'SEGMENT_ROLLED_BACK' } });

      const back = nextChange(client, (e) => e.changedSlices.includes(slice.key), 10_000);
      await resumeSegment(slice.key, kenya);
      await back;
      expect(client.explain(slice.key, KE)).toMatchObject({ path: 'NEW', reason: 'RULE' });
    } finally {
      await sdks.closeAll();
    }
  });

  it('history replays to the stored slice, rolled-back segments included, and the chain verifies', async () => {
    const { slice, kenya, ghana } = await configured();
    await rollbackSegment(responder, slice.key, kenya);
    await rollbackSegment(responder, slice.key, ghana);
    await resumeSegment(slice.key, ghana);
    const replayed = await t.app.get(HistoryService).replay();
    const stored = await t.app.get(SlicesRepository).find(slice.key);
    expect(stored?.rolledBackSegments).toEqual([kenya]);
    expect(replayed.slices.get(slice.key)).toEqual(stored);
    expect((await t.admin.ok<{ verifyHistory: { ok: boolean } }>('query { verifyHistory { ok } }')).verifyHistory.ok).toBe(true);
  });
});
