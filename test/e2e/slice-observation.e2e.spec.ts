import fc from 'fast-check';
import { patchSnapshot, type SliceDefinition, type SnapshotDefinition, type SnapshotDelta } from '@switchyard/client-sdk/core';
import { SnapshotRepository } from '../../src/delivery/snapshot.repository.js';
import { HistoryService } from '../../src/history/history.service.js';
import { SlicesRepository } from '../../src/slices/slices.repository.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { nextBesidesHeartbeats, openEventStream, type EventStream } from '../utils/event-stream.js';
import { createSlice, evaluate, SLICE_FIELDS, type SliceView, sliceHistory, uniqueKey } from '../utils/operations.js';

type ObservedSlice = SliceView & { watched: boolean; shadowPercent: number; mismatchThresholdPercent: number };

const FIELDS = `${SLICE_FIELDS} watched shadowPercent mismatchThresholdPercent`;
const SET_OBSERVATION = `mutation($key: String!, $watched: Boolean, $shadowPercent: Float, $mismatchThresholdPercent: Float,
                                  $reason: String, $expectedVersion: Int, $idempotencyKey: String) {
  setObservation(key: $key, watched: $watched, shadowPercent: $shadowPercent, mismatchThresholdPercent: $mismatchThresholdPercent,
                 reason: $reason, expectedVersion: $expectedVersion, idempotencyKey: $idempotencyKey) { ${FIELDS} } }`;

interface Snapshot {
  revision: number;
  generatedAt: string;
  slices: SliceDefinition[];
  segments: unknown[];
}

/**
 * Per-slice observation settings (docs/outcomes.md, "Slice settings"): setObservation over real
 * HTTP, its history, its refusals, and what the snapshot delivers to SDKs (whole and as a delta).
 */
describe('slice observation settings (setObservation)', () => {
  let t: TestApp;
  let sdkToken: string;
  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_STREAM_HEARTBEAT_MS: '200' });
    sdkToken = await t.tokenFor('sdk');
  });
  afterAll(async () => {
    await t?.close();
  });

  const observe = async (vars: Record<string, unknown>, client = t.admin) => (await client.ok<{ setObservation: ObservedSlice }>(SET_OBSERVATION, vars)).setObservation;
  const read = async (key: string) => (await t.admin.ok<{ slice: ObservedSlice }>(`query($key: String!) { slice(key: $key) { ${FIELDS} } }`, { key })).slice;

  async function headRevision(): Promise<number> {
    return t.app.get(SnapshotRepository).revision();
  }

  /** The snapshot an SDK gets, once the service serves `minRevision` (the head by default). */
  async function snapshot(minRevision?: number): Promise<Snapshot> {
    const want = minRevision ?? (await headRevision());
    for (let i = 0; i < 250; i++) {
      const body = (await (await fetch(`${t.baseUrl}/sdk/v1/snapshot`, { headers: { authorization: `Bearer ${sdkToken}` } })).json()) as Snapshot;
      if (body.revision >= want) return body;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`snapshot never reached revision ${want}`);
  }
  const served = async (key: string) => (await snapshot()).slices.find((s) => s.key === key);

  it('a new slice is not watched, compares 0 %, has the 0.1 % threshold, and is served and recorded as before', async () => {
    const slice = await createSlice(t.admin, { key: uniqueKey('api.get-transactions'), percent: 5 });
    expect(await read(slice.key)).toMatchObject({ watched: false, shadowPercent: 0, mismatchThresholdPercent: 0.1 });
    expect(await served(slice.key)).toEqual({
      key: slice.key,
      state: 'ACTIVE',
      basisPoints: 500,
      stickinessAttribute: 'userId',
      targeting: { include: [], exclude: [], rules: [] },
    });
    const [created] = await sliceHistory(t.admin, slice.key);
    expect(Object.keys(created!.after as object).sort()).toEqual(
      ['basisPoints', 'createdAt', 'description', 'key', 'owner', 'state', 'stickinessAttribute', 'tags', 'targeting', 'updatedAt', 'version'].sort(),
    );
  });

  it('sets all three, records OBSERVATION_SET with before and after, advances version and revision, changes no decision', async () => {
    const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider'), percent: 50 });
    const decisions = await Promise.all(['1', '2', '3', '4', '5', '6'].map((userId) => evaluate(t.admin, slice.key, { userId })));
    const revisionBefore = (await snapshot()).revision;
    const releaseManager = t.as(await t.tokenFor('release-manager'));

    const changed = await observe(
      { key: slice.key, watched: true, shadowPercent: 2.5, mismatchThresholdPercent: 0.0125, reason: 'dual running', expectedVersion: 1 },
      releaseManager,
    );
    expect(changed).toMatchObject({ watched: true, shadowPercent: 2.5, mismatchThresholdPercent: 0.0125, version: 2, percent: 50, state: 'ACTIVE' });
    expect(await read(slice.key)).toEqual(changed);

    const [row] = await sliceHistory(t.admin, slice.key);
    expect(row).toMatchObject({ action: 'OBSERVATION_SET', reason: 'dual running', sliceKey: slice.key });
    expect(row!.before).not.toHaveProperty('watched');
    expect(row!.after).toMatchObject({ watched: true, shadowBasisPoints: 250, mismatchThresholdPpm: 125, version: 2, basisPoints: 5000 });

    // watched and the shadow share reach SDKs; the threshold stays on the service.
    const after = await snapshot(revisionBefore + 1);
    expect(after.revision).toBeGreaterThan(revisionBefore);
    expect(after.slices.find((s) => s.key === slice.key)).toEqual({
      key: slice.key,
      state: 'ACTIVE',
      basisPoints: 5000,
      stickinessAttribute: 'userId',
      targeting: { include: [], exclude: [], rules: [] },
      watched: true,
      shadowBasisPoints: 250,
    });
    expect(await Promise.all(['1', '2', '3', '4', '5', '6'].map((userId) => evaluate(t.admin, slice.key, { userId })))).toEqual(decisions);
  });

  it('changes only what it is given; asking for what is already so writes nothing; back to the defaults is served as before', async () => {
    const slice = await createSlice(t.admin, { key: uniqueKey('api.route') });
    await observe({ key: slice.key, shadowPercent: 10 });
    expect(await observe({ key: slice.key, mismatchThresholdPercent: 1 })).toMatchObject({ watched: false, shadowPercent: 10, mismatchThresholdPercent: 1, version: 3 });
    expect(await observe({ key: slice.key, shadowPercent: 10, watched: false })).toMatchObject({ version: 3 });
    expect(await sliceHistory(t.admin, slice.key)).toHaveLength(3);

    const reset = await observe({ key: slice.key, shadowPercent: 0, mismatchThresholdPercent: 0.1 });
    expect(reset).toMatchObject({ shadowPercent: 0, mismatchThresholdPercent: 0.1, version: 4 });
    const [row] = await sliceHistory(t.admin, slice.key);
    expect(row!.before).toMatchObject({ shadowBasisPoints: 1000, mismatchThresholdPpm: 10_000 });
    expect(row!.after).not.toHaveProperty('shadowBasisPoints');
    expect(row!.after).not.toHaveProperty('mismatchThresholdPpm');
    expect(await served(slice.key)).toEqual({ key: slice.key, state: 'ACTIVE', basisPoints: 0, stickinessAttribute: 'userId', targeting: { include: [], exclude: [], rules: [] } });
  });

  it('a stale expectedVersion is a CONFLICT and writes nothing; an idempotent retry returns the first result', async () => {
    const slice = await createSlice(t.admin, { key: uniqueKey('api.route') });
    await observe({ key: slice.key, watched: true });
    const stale = await t.admin.error(SET_OBSERVATION, { key: slice.key, shadowPercent: 5, expectedVersion: 1 });
    expect(stale.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'SLICE_VERSION_CONFLICT' });
    expect(await read(slice.key)).toMatchObject({ shadowPercent: 0, version: 2 });

    const idempotencyKey = `observe-${slice.key}`;
    const first = await observe({ key: slice.key, shadowPercent: 5, idempotencyKey });
    await observe({ key: slice.key, shadowPercent: 7 });
    expect(await observe({ key: slice.key, shadowPercent: 5, idempotencyKey })).toEqual(first);
    expect((await read(slice.key)).shadowPercent).toBe(7);
    expect((await sliceHistory(t.admin, slice.key)).map((h) => h.action)).toEqual(['OBSERVATION_SET', 'OBSERVATION_SET', 'OBSERVATION_SET', 'SLICE_CREATED']);
  });

  it('refuses percentages out of range or too precise, and a call that sets nothing, naming the field; nothing is written', async () => {
    const slice = await createSlice(t.admin, { key: uniqueKey('api.route') });
    const revision = await headRevision();
    const notPercent = fc.oneof(fc.double({ min: -1e9, max: -Number.MIN_VALUE, noNaN: true }), fc.double({ min: 100.000001, max: 1e300, noNaN: true }));
    const threeDecimals = fc
      .integer({ min: 0, max: 99_999 })
      .filter((n) => n % 10 !== 0)
      .map((n) => n / 1000);
    const fiveDecimals = fc
      .integer({ min: 0, max: 9_999_999 })
      .filter((n) => n % 10 !== 0)
      .map((n) => n / 100_000);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ field: fc.constant('shadowPercent'), value: fc.oneof(notPercent, threeDecimals) }),
          fc.record({ field: fc.constant('mismatchThresholdPercent'), value: fc.oneof(notPercent, fiveDecimals) }),
        ),
        fc.boolean(),
        async ({ field, value }, alsoWatched) => {
          const error = await t.admin.error(SET_OBSERVATION, { key: slice.key, [field]: value, ...(alsoWatched ? { watched: true } : {}) });
          expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'INVALID_INPUT', field });
        },
      ),
      { numRuns: 60 },
    );
    for (const vars of [{}, { watched: null, shadowPercent: null, mismatchThresholdPercent: null }]) {
      const error = await t.admin.error(SET_OBSERVATION, { key: slice.key, ...vars });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'INVALID_INPUT', field: 'watched' });
    }
    // Not a number at all: GraphQL's own refusal.
    expect((await t.admin.error(SET_OBSERVATION, { key: slice.key, shadowPercent: 'five' })).extensions?.code).toBe('BAD_USER_INPUT');
    expect(await read(slice.key)).toMatchObject({ version: 1, watched: false, shadowPercent: 0, mismatchThresholdPercent: 0.1 });
    expect(await sliceHistory(t.admin, slice.key)).toHaveLength(1);
    expect(await headRevision()).toBe(revision);
  });

  it('accepts the whole range at the allowed precision', async () => {
    const slice = await createSlice(t.admin, { key: uniqueKey('api.route') });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 1_000_000 }), async (bp, ppm) => {
        const done = await observe({ key: slice.key, shadowPercent: bp / 100, mismatchThresholdPercent: ppm / 10_000 });
        expect(done).toMatchObject({ shadowPercent: bp / 100, mismatchThresholdPercent: ppm / 10_000 });
        const rows: { s: number; m: number }[] = await t.dataSource.query('SELECT shadow_basis_points AS s, mismatch_threshold_ppm AS m FROM slices WHERE key = $1', [slice.key]);
        expect(rows[0]).toEqual({ s: bp, m: ppm });
      }),
      { numRuns: 25 },
    );
  });

  it('is allowed on a rolled-back slice (resume keeps it), refused on an archived one; needs the release-manager role', async () => {
    const slice = await createSlice(t.admin, { key: uniqueKey('api.route'), percent: 20 });
    await t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "incident") { key } }', { key: slice.key });
    expect(await observe({ key: slice.key, watched: true })).toMatchObject({ state: 'ROLLED_BACK', watched: true });
    expect(await served(slice.key)).toMatchObject({ state: 'ROLLED_BACK', watched: true });
    await t.admin.ok('mutation($key: String!) { resume(key: $key, reason: "fixed") { key } }', { key: slice.key });
    expect(await read(slice.key)).toMatchObject({ state: 'ACTIVE', watched: true, percent: 20 });

    for (const role of ['incident-responder', 'viewer', 'sdk'] as const) {
      const res = await t.as(await t.tokenFor(role)).request(SET_OBSERVATION, { key: slice.key, shadowPercent: 5 });
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await t.admin.error(SET_OBSERVATION, { key: 'no.such.slice', watched: true })).extensions).toMatchObject({ code: 'NOT_FOUND', errorCode: 'SLICE_NOT_FOUND' });

    await t.admin.ok('mutation($key: String!) { archiveSlice(key: $key, reason: "done") { key } }', { key: slice.key });
    const archived = await t.admin.error(SET_OBSERVATION, { key: slice.key, watched: false });
    expect(archived.extensions).toMatchObject({ errorCode: 'SLICE_ARCHIVED' });
    expect(await read(slice.key)).toMatchObject({ state: 'ARCHIVED', watched: true });
  });

  describe('delivery', () => {
    let stream: EventStream | undefined;
    afterEach(() => stream?.close());

    it('a stream holding the revision gets a delta carrying the settings; patched, it equals the snapshot, and a whole read too', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('delta'), percent: 40 });
      const start = await snapshot();
      stream = await openEventStream(`${t.baseUrl}/sdk/v1/stream?delta=1`, { authorization: `Bearer ${sdkToken}` });
      const first = await stream.next('snapshot');
      expect((JSON.parse(first.data) as Snapshot).revision).toBe(start.revision);

      await observe({ key: slice.key, watched: true, shadowPercent: 0.25 });
      const event = await nextBesidesHeartbeats(stream);
      expect(event.event).toBe('delta');
      const delta = JSON.parse(event.data) as SnapshotDelta;
      expect(delta).toMatchObject({ baseRevision: start.revision, removedSlices: [], segments: [], removedSegments: [] });
      expect(delta.slices).toEqual([expect.objectContaining({ key: slice.key, watched: true, shadowBasisPoints: 25 })]);

      const after = await snapshot(delta.revision);
      const { generatedAt: _a, ...held } = JSON.parse(first.data) as Snapshot;
      const { generatedAt: _b, ...now } = after;
      expect(sorted(patchSnapshot(held as unknown as SnapshotDefinition, delta))).toEqual(sorted(now as unknown as SnapshotDefinition));
      // The service read the change incrementally (loadSince); a whole read gives the same.
      expect((await t.app.get(SnapshotRepository).load()).definition).toEqual(now);

      await observe({ key: slice.key, watched: false });
      const unwatched = JSON.parse((await nextBesidesHeartbeats(stream)).data) as SnapshotDelta;
      expect(unwatched.slices).toEqual([
        { key: slice.key, state: 'ACTIVE', basisPoints: 4000, stickinessAttribute: 'userId', targeting: { include: [], exclude: [], rules: [] }, shadowBasisPoints: 25 },
      ]);
    });

    it('the Unleash-compatible form ignores them', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('unleash'), percent: 30 });
      const features = async () => {
        await snapshot();
        const res = await fetch(`${t.baseUrl}/api/client/features`, { headers: { authorization: sdkToken } });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { features: { name: string }[] };
        return body.features.find((f) => f.name === slice.key);
      };
      const before = await features();
      expect(before).toBeDefined();
      await observe({ key: slice.key, watched: true, shadowPercent: 50, mismatchThresholdPercent: 2 });
      expect(await features()).toEqual(before);
    });
  });

  it('history still verifies, and replays to every slice as it is now', async () => {
    const verdict = await t.admin.ok<{ verifyHistory: { ok: boolean; verdict: string } }>('{ verifyHistory { ok verdict } }');
    expect(verdict.verifyHistory).toEqual({ ok: true, verdict: 'OK' });
    const replayed = await t.app.get(HistoryService).replay();
    const slices = t.app.get(SlicesRepository);
    expect(replayed.slices.size).toBeGreaterThan(5);
    for (const [key, record] of replayed.slices) expect({ key, record }).toEqual({ key, record: await slices.find(key) });
  });

  // Last: it takes the schema back and forth under the running service.
  it('an upgrade over slices, history and idempotent results written before the migration keeps them all as they were', async () => {
    const slice = await createSlice(t.admin, { key: uniqueKey('upgrade'), percent: 5 });
    const setRollout = `mutation($key: String!, $idempotencyKey: String) { setRollout(key: $key, percent: 7, reason: "before", idempotencyKey: $idempotencyKey) { ${FIELDS} } }`;
    const idempotencyKey = `upgrade-${slice.key}`;
    const first = await t.admin.ok(setRollout, { key: slice.key, idempotencyKey });
    const rowsBefore: unknown[] = await t.dataSource.query('SELECT position, hash FROM history ORDER BY position');

    // Back to the schema before this migration (and those after it), as a database that never had
    // it, and up again.
    const since: { name: string }[] = await t.dataSource.query('SELECT name FROM migrations WHERE timestamp >= 1765000000000 ORDER BY timestamp');
    expect(since[0]!.name).toBe('SliceObservation1765000000000');
    for (let i = 0; i < since.length; i++) await t.dataSource.undoLastMigration({ transaction: 'each' });
    expect(await t.dataSource.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'slices' AND column_name = 'watched'")).toEqual([]);
    await t.dataSource.runMigrations({ transaction: 'each' });

    expect(await t.dataSource.query('SELECT position, hash FROM history ORDER BY position')).toEqual(rowsBefore);
    expect(await read(slice.key)).toMatchObject({ version: 2, percent: 7, watched: false, shadowPercent: 0, mismatchThresholdPercent: 0.1 });
    expect(await t.admin.ok(setRollout, { key: slice.key, idempotencyKey })).toEqual(first);
    await observe({ key: slice.key, watched: true });
    expect((await t.admin.ok<{ verifyHistory: { ok: boolean } }>('{ verifyHistory { ok } }')).verifyHistory.ok).toBe(true);
    const replayed = await t.app.get(HistoryService).replay();
    expect(replayed.slices.get(slice.key)).toEqual(await t.app.get(SlicesRepository).find(slice.key));
  });
});

function sorted(s: SnapshotDefinition) {
  const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return { ...s, slices: [...s.slices].sort(byKey), segments: [...s.segments].sort(byKey) };
}
