import fc from 'fast-check';
import {
  addCount,
  type BufferLimits,
  bucketStartFor,
  DEFAULT_BUFFER_LIMITS,
  decisionsIn,
  FOLLOWER_MARK_REFRESH_MS,
  type InstanceObservation,
  MAX_CELL_COUNT,
  mergeInstance,
  MINUTE_MS,
  rowsIn,
  saturatedSum,
  splitBatch,
  TrafficBuffer,
} from './traffic-buffer.js';
import type { ComparisonReport, PathOutcomeReport, SliceOutcomeReport } from './traffic-report.js';

const T0 = Date.parse('2026-01-01T12:00:00.000Z');

function instance(overrides: Partial<InstanceObservation> = {}): InstanceObservation {
  return {
    protocol: 'SWITCHYARD',
    appName: 'payments-api',
    instanceId: 'pod-1',
    sdkName: 'switchyard-node',
    sdkVersion: '0.1.0',
    revision: 10,
    syncedAt: T0,
    clientSpec: null,
    seenAt: T0,
    closedAt: null,
    reportIntervalMs: null,
    ...overrides,
  };
}

const limits = (overrides: Partial<BufferLimits>): BufferLimits => ({ ...DEFAULT_BUFFER_LIMITS, ...overrides });

/** Generated limits, each from 1 to the given most. */
const tightLimits = (most: BufferLimits) =>
  fc.record({
    maxCells: fc.integer({ min: 1, max: most.maxCells }),
    maxCellsPerApp: fc.integer({ min: 1, max: most.maxCellsPerApp }),
    maxCellsPerToken: fc.integer({ min: 1, max: most.maxCellsPerToken }),
    maxInstances: fc.integer({ min: 1, max: most.maxInstances }),
    maxFollowers: fc.integer({ min: 1, max: most.maxFollowers }),
  });

const counts = (bucketStart: number, entries: Record<string, [number, number]>) => ({
  bucketStart,
  slices: new Map(Object.entries(entries).map(([k, [NEW, LEGACY]]) => [k, { NEW, LEGACY }] as const)),
});

describe('bucketStartFor', () => {
  it('places a report at the middle of its span, on the receiving clock, floored to the minute', () => {
    // A 60 s report received at 12:01:20 covers 12:00:20 to 12:01:20: its middle is 12:00:50.
    expect(bucketStartFor(T0 + 80_000, 0, 60_000)).toBe(T0);
    // The same span, by a host clock an hour off: only the span counts.
    expect(bucketStartFor(T0 + 80_000, T0 + 3_600_000, T0 + 3_660_000)).toBe(T0);
    // A short report received at 12:01:20 stays in 12:01.
    expect(bucketStartFor(T0 + 80_000, 0, 1_000)).toBe(T0 + MINUTE_MS);
  });

  it('treats a negative span as none and caps a long one at a day', () => {
    expect(bucketStartFor(T0 + 30_000, 5_000, 0)).toBe(T0);
    expect(bucketStartFor(T0, 0, 10 * 24 * 3_600_000)).toBe(T0 - 12 * 3_600_000);
  });
});

describe('mergeInstance', () => {
  it('keeps the later sighting, the SDK of the later observation that says it, and revision with its sync', () => {
    const known = instance({ revision: 10, syncedAt: T0, seenAt: T0 });
    const later = instance({ revision: 12, syncedAt: T0 + 5_000, seenAt: T0 + 6_000, sdkVersion: '0.2.0' });
    expect(mergeInstance(known, later)).toEqual(later);
    // Whichever arrives first (two service instances may write in any order): the same result.
    expect(mergeInstance(later, known)).toEqual(later);
  });

  it('keeps what an observation does not say', () => {
    const known = instance();
    const metricsOnly = instance({ sdkName: null, sdkVersion: null, revision: null, syncedAt: null, seenAt: T0 + 60_000 });
    expect(mergeInstance(known, metricsOnly)).toEqual({ ...known, seenAt: T0 + 60_000 });
  });

  it('keeps the declared client specification with the revision it was served with', () => {
    const unleash = (o: Partial<InstanceObservation>) => instance({ protocol: 'UNLEASH', sdkName: null, sdkVersion: null, ...o });
    const served = unleash({ revision: 10, syncedAt: T0, clientSpec: '4.3.1', seenAt: T0 });
    const servedLater = unleash({ revision: 11, syncedAt: T0 + 5_000, clientSpec: null, seenAt: T0 + 5_000 });
    const metrics = unleash({ revision: null, syncedAt: null, clientSpec: null, seenAt: T0 + 9_000 });
    expect(mergeInstance(served, metrics)).toMatchObject({ revision: 10, clientSpec: '4.3.1', seenAt: T0 + 9_000 });
    // A later serving without the header: none declared now (the SDK was replaced by an older one).
    expect(mergeInstance(served, servedLater)).toMatchObject({ revision: 11, clientSpec: null });
    expect(mergeInstance(servedLater, served)).toMatchObject({ revision: 11, clientSpec: null });
  });

  it('lets a report without a sync time (bootstrap only) replace only another without one', () => {
    const synced = instance({ revision: 10, syncedAt: T0 });
    const bootstrap = instance({ revision: 3, syncedAt: null, seenAt: T0 + 1_000 });
    expect(mergeInstance(synced, bootstrap)).toMatchObject({ revision: 10, syncedAt: T0, seenAt: T0 + 1_000 });
    expect(mergeInstance(instance({ revision: 2, syncedAt: null }), bootstrap)).toMatchObject({ revision: 3, syncedAt: null });
  });
});

describe('mergeInstance: goodbye and report interval', () => {
  it('keeps a goodbye that came last, in either order, and forgets one the instance was heard after', () => {
    const report = instance({ seenAt: T0, reportIntervalMs: 15_000 });
    const goodbye = instance({ seenAt: T0 + 1_000, closedAt: T0 + 1_000 });
    expect(mergeInstance(report, goodbye)).toMatchObject({ closedAt: T0 + 1_000, reportIntervalMs: 15_000, seenAt: T0 + 1_000 });
    expect(mergeInstance(goodbye, report)).toMatchObject({ closedAt: T0 + 1_000, reportIntervalMs: 15_000, seenAt: T0 + 1_000 });
    // The same instance id reporting again after its goodbye (a client created again): it is back.
    const again = instance({ seenAt: T0 + 2_000 });
    expect(mergeInstance(mergeInstance(report, goodbye), again)).toMatchObject({ closedAt: null, seenAt: T0 + 2_000 });
    expect(mergeInstance(again, mergeInstance(report, goodbye))).toMatchObject({ closedAt: null, seenAt: T0 + 2_000 });
    // A goodbye and a report of the same instant: the goodbye wins.
    expect(mergeInstance(goodbye, instance({ seenAt: T0 + 1_000 })).closedAt).toBe(T0 + 1_000);
  });

  it('takes the interval from the later observation that says one', () => {
    const said = instance({ seenAt: T0, reportIntervalMs: 15_000 });
    const silent = instance({ seenAt: T0 + 1_000 });
    expect(mergeInstance(said, silent).reportIntervalMs).toBe(15_000);
    expect(mergeInstance(said, instance({ seenAt: T0 + 1_000, reportIntervalMs: 30_000 })).reportIntervalMs).toBe(30_000);
    expect(mergeInstance(instance({ seenAt: T0 + 1_000, reportIntervalMs: 30_000 }), said).reportIntervalMs).toBe(30_000);
  });
});

describe('TrafficBuffer', () => {
  it('adds counts per slice, app, path and minute, skipping zeros, and marks the instance a follower', () => {
    const buffer = new TrafficBuffer();
    expect(buffer.add(instance(), counts(T0, { a: [3, 7], b: [0, 0], c: [0, 4] }), 'sdk-token')).toBe('accepted');
    expect(buffer.add(instance({ seenAt: T0 + 30_000 }), counts(T0, { a: [1, 1] }), 'sdk-token')).toBe('accepted');
    expect(buffer.add(instance({ appName: 'billing-api' }), counts(T0, { a: [5, 0] }), 'sdk-token')).toBe('accepted');
    const batch = buffer.drain();
    expect(buffer.isEmpty).toBe(true);
    expect(batch.cells.map((c) => [c.sliceKey, c.appName, c.path, c.count])).toEqual([
      ['a', 'billing-api', 'NEW', 5n],
      ['a', 'payments-api', 'LEGACY', 8n],
      ['a', 'payments-api', 'NEW', 4n],
      ['c', 'payments-api', 'LEGACY', 4n],
    ]);
    expect(batch.followers.map((f) => [f.sliceKey, f.appName, f.reportedAt])).toEqual([
      ['a', 'billing-api', T0],
      ['a', 'payments-api', T0 + 30_000],
      ['c', 'payments-api', T0],
    ]);
    expect(batch.instances.map((i) => [i.appName, i.seenAt])).toEqual([
      ['billing-api', T0],
      ['payments-api', T0 + 30_000],
    ]);
    expect(decisionsIn(batch)).toBe(21n);
  });

  it('sums beyond 2^53 exactly', () => {
    const buffer = new TrafficBuffer();
    const max = Number.MAX_SAFE_INTEGER;
    buffer.add(instance(), counts(T0, { a: [max, 0] }), 'sdk-token');
    buffer.add(instance(), counts(T0, { a: [max, 0] }), 'sdk-token');
    expect(buffer.drain().cells[0]!.count).toBe(2n * BigInt(max));
  });

  it('takes a report whole or not at all when full', () => {
    const buffer = new TrafficBuffer(limits({ maxCells: 3, maxInstances: 10, maxFollowers: 10 }));
    expect(buffer.add(instance(), counts(T0, { a: [1, 1] }), 'sdk-token')).toBe('accepted');
    // Two more cells would make four: refused, nothing of it kept.
    expect(buffer.add(instance({ instanceId: 'pod-2' }), counts(T0, { b: [1, 1] }), 'sdk-token')).toBe('buffer_full');
    expect(buffer.size).toEqual({ cells: 2, instances: 1, followers: 1 });
    // Existing cells still take more counts; one new cell still fits.
    expect(buffer.add(instance(), counts(T0, { a: [5, 5], c: [1, 0] }), 'sdk-token')).toBe('accepted');
    expect(buffer.size.cells).toBe(3);
    expect(new TrafficBuffer(limits({ maxCells: 10, maxInstances: 1, maxFollowers: 10 })).add(instance(), undefined, 'sdk-token')).toBe('accepted');
  });

  it('restores a batch that could not be written, merged with what came since, dropping what does not fit', () => {
    const buffer = new TrafficBuffer(limits({ maxCells: 3, maxInstances: 10, maxFollowers: 10 }));
    const later = T0 + FOLLOWER_MARK_REFRESH_MS;
    buffer.add(instance(), counts(T0, { a: [1, 2] }), 'sdk-token');
    const failed = buffer.drain();
    buffer.add(instance({ revision: 11, syncedAt: later, seenAt: later }), counts(T0, { a: [10, 0], b: [0, 7], c: [1, 0] }), 'sdk-token');
    // a/NEW adds to the cell held; a/LEGACY would be a fourth cell: its 2 decisions are dropped.
    expect(buffer.restore(failed)).toBe(2n);
    const batch = buffer.drain();
    expect(batch.cells.map((c) => [c.sliceKey, c.path, c.count])).toEqual([
      ['a', 'NEW', 11n],
      ['b', 'LEGACY', 7n],
      ['c', 'NEW', 1n],
    ]);
    // The newer observation of the instance wins, whichever was merged into which.
    expect(batch.instances).toEqual([instance({ revision: 11, syncedAt: later, seenAt: later })]);
    expect(batch.followers.map((f) => [f.sliceKey, f.reportedAt])).toEqual([
      ['a', later],
      ['b', later],
      ['c', later],
    ]);
  });
});

describe('TrafficBuffer: follower marks', () => {
  it('takes a mark out to be written again only a refresh after the last, and a new slice at once', () => {
    const buffer = new TrafficBuffer();
    const marks = () => buffer.drain().followers.map((f) => [f.sliceKey, f.reportedAt]);
    buffer.add(instance({ seenAt: T0 }), counts(T0, { a: [1, 0] }), 't');
    expect(marks()).toEqual([['a', T0]]);
    // A watched slice's next reports, 2 s apart: counted, not marked again; a new slice is.
    buffer.add(instance({ seenAt: T0 + 2_000 }), counts(T0, { a: [1, 0], b: [0, 1] }), 't');
    expect(marks()).toEqual([['b', T0 + 2_000]]);
    buffer.add(instance({ seenAt: T0 + FOLLOWER_MARK_REFRESH_MS - 1 }), counts(T0, { a: [1, 0] }), 't');
    expect(buffer.drain().cells).toHaveLength(1);
    buffer.add(instance({ seenAt: T0 + FOLLOWER_MARK_REFRESH_MS }), counts(T0, { a: [1, 0] }), 't');
    expect(marks()).toEqual([['a', T0 + FOLLOWER_MARK_REFRESH_MS]]);
    // Another instance of the same app is its own follower.
    buffer.add(instance({ instanceId: 'pod-2', seenAt: T0 + FOLLOWER_MARK_REFRESH_MS + 1 }), counts(T0, { a: [1, 0] }), 't');
    expect(marks()).toEqual([['a', T0 + FOLLOWER_MARK_REFRESH_MS + 1]]);
  });

  it("never lets a written mark lag an instance's last report by a refresh or more (property)", () => {
    const step = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('report' as const),
          after: fc.nat(20_000),
          instanceId: fc.constantFrom('i1', 'i2'),
          slices: fc.subarray(['s1', 's2', 's3'], { minLength: 1 }),
        }),
      },
      { weight: 3, arbitrary: fc.constant({ kind: 'drain' as const }) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const buffer = new TrafficBuffer();
        let now = T0;
        const lastReport = new Map<string, number>();
        const written = new Map<string, number>();
        const drainAndCheck = () => {
          for (const f of buffer.drain().followers) written.set(`${f.instanceId}|${f.sliceKey}`, Math.max(written.get(`${f.instanceId}|${f.sliceKey}`) ?? 0, f.reportedAt));
          for (const [key, at] of lastReport) expect(at - written.get(key)!).toBeLessThan(FOLLOWER_MARK_REFRESH_MS);
        };
        for (const s of steps) {
          if (s.kind === 'drain') {
            drainAndCheck();
            continue;
          }
          now += s.after;
          expect(buffer.add(instance({ instanceId: s.instanceId, seenAt: now }), counts(T0, Object.fromEntries(s.slices.map((k) => [k, [1, 0]]))), 't')).toBe('accepted');
          for (const k of s.slices) lastReport.set(`${s.instanceId}|${k}`, now);
        }
        drainAndCheck();
      }),
      { numRuns: 300 },
    );
  });
});

describe('TrafficBuffer shares and bounds', () => {
  it('refuses a report that would take its app or its token past their share of cells, and no other', () => {
    const buffer = new TrafficBuffer(limits({ maxCells: 100, maxCellsPerApp: 4, maxCellsPerToken: 6 }));
    expect(buffer.add(instance({ appName: 'flood' }), counts(T0, { a: [1, 1], b: [1, 1] }), 'bad-token')).toBe('accepted');
    // A fifth cell for the app: refused whole, nothing kept.
    expect(buffer.add(instance({ appName: 'flood', instanceId: 'pod-2' }), counts(T0, { c: [1, 0] }), 'bad-token')).toBe('cell_limit');
    expect(buffer.size).toEqual({ cells: 4, instances: 1, followers: 2 });
    // Counts for cells it holds still add up (no new cell).
    expect(buffer.add(instance({ appName: 'flood' }), counts(T0, { a: [5, 5] }), 'bad-token')).toBe('accepted');
    // Another app of the same token: within its app's share, past the token's after two more cells.
    expect(buffer.add(instance({ appName: 'flood-2' }), counts(T0, { a: [1, 1] }), 'bad-token')).toBe('accepted');
    expect(buffer.add(instance({ appName: 'flood-3' }), counts(T0, { a: [1, 0] }), 'bad-token')).toBe('cell_limit');
    expect(buffer.cellsOf({ token: 'bad-token' })).toBe(6);
    // An honest app with another token is unaffected.
    expect(buffer.add(instance({ appName: 'honest' }), counts(T0, { a: [3, 4], b: [1, 0] }), 'good-token')).toBe('accepted');
    expect(buffer.cellsOf({ app: 'honest' })).toBe(3);
    // A drain frees every share.
    buffer.drain();
    expect(buffer.add(instance({ appName: 'flood' }), counts(T0, { c: [1, 0] }), 'bad-token')).toBe('accepted');
  });

  it('saturates a cell at the largest bigint instead of overflowing', () => {
    const buffer = new TrafficBuffer();
    const max = Number.MAX_SAFE_INTEGER;
    for (let i = 0; i < 1_100; i++) buffer.add(instance(), counts(T0, { a: [max, 0] }), 'sdk-token');
    expect(buffer.drain().cells[0]!.count).toBe(MAX_CELL_COUNT);
    const restored = new TrafficBuffer();
    restored.add(instance(), counts(T0, { a: [max, 0] }), 'sdk-token');
    expect(
      restored.restore({ cells: [{ sliceKey: 'a', appName: 'payments-api', path: 'NEW', bucketStart: T0, count: MAX_CELL_COUNT, owner: 'x' }], instances: [], followers: [] }),
    ).toBe(0n);
    expect(restored.drain().cells[0]!.count).toBe(MAX_CELL_COUNT);
  });

  it('splits a batch into two halves that keep every row once, in order', () => {
    const buffer = new TrafficBuffer();
    buffer.add(instance(), counts(T0, { a: [1, 1], b: [1, 0], c: [0, 1] }), 'sdk-token');
    buffer.add(instance({ instanceId: 'pod-2' }), counts(T0, { a: [2, 0] }), 'sdk-token');
    const batch = buffer.drain();
    const [first, second] = splitBatch(batch);
    expect(rowsIn(first)).toBe(Math.ceil(rowsIn(batch) / 2));
    expect(rowsIn(first) + rowsIn(second)).toBe(rowsIn(batch));
    for (const kind of ['cells', 'instances', 'followers'] as const) expect([...first[kind], ...second[kind]]).toEqual(batch[kind]);
    const [one, none] = splitBatch({ cells: [batch.cells[0]!], instances: [], followers: [] });
    expect([rowsIn(one), rowsIn(none)]).toEqual([1, 0]);
  });

  /** Reports from a few apps, instances and tokens, with counts up to 2^53 - 1, drained now and then. */
  const operation = fc.oneof(
    {
      weight: 9,
      arbitrary: fc.record({
        kind: fc.constant('add' as const),
        app: fc.constantFrom('a1', 'a2', 'a3'),
        instanceId: fc.constantFrom('i1', 'i2', 'i3', 'i4'),
        token: fc.constantFrom('t1', 't2'),
        minute: fc.integer({ min: 0, max: 3 }),
        slices: fc.dictionary(
          fc.constantFrom('s1', 's2', 's3', 's4', 's5'),
          fc.record({ NEW: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)), LEGACY: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)) }),
        ),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'drain' as const }) },
  );

  it('never holds more than its bounds and shares allow, and keeps exactly the sums of what it accepted (property)', () => {
    fc.assert(
      fc.property(
        fc.array(operation, { maxLength: 60 }),
        tightLimits({ maxCells: 30, maxCellsPerApp: 20, maxCellsPerToken: 25, maxInstances: 8, maxFollowers: 30 }),
        (operations, bounds) => {
          const buffer = new TrafficBuffer(bounds);
          let expected = new Map<string, bigint>();
          const check = (drained: ReturnType<TrafficBuffer['drain']>) => {
            const actual = new Map(drained.cells.map((c) => [`${c.sliceKey}|${c.appName}|${c.path}|${c.bucketStart}`, c.count]));
            expect(actual).toEqual(expected);
            for (const c of drained.cells) expect(c.count > 0n && c.count <= MAX_CELL_COUNT).toBe(true);
            expected = new Map();
          };
          for (const op of operations) {
            if (op.kind === 'drain') {
              check(buffer.drain());
              continue;
            }
            const before = buffer.size;
            const entry = counts(T0 + op.minute * MINUTE_MS, Object.fromEntries(Object.entries(op.slices).map(([k, c]) => [k, [c.NEW, c.LEGACY]])));
            const outcome = buffer.add(instance({ appName: op.app, instanceId: op.instanceId }), entry, op.token);
            if (outcome !== 'accepted') {
              expect(buffer.size).toEqual(before);
            } else {
              for (const [key, c] of entry.slices) {
                for (const path of ['NEW', 'LEGACY'] as const) {
                  if (c[path] === 0) continue;
                  const cell = `${key}|${op.app}|${path}|${entry.bucketStart}`;
                  const sum = (expected.get(cell) ?? 0n) + BigInt(c[path]);
                  expected.set(cell, sum > MAX_CELL_COUNT ? MAX_CELL_COUNT : sum);
                }
              }
            }
            const size = buffer.size;
            expect(size.cells).toBeLessThanOrEqual(bounds.maxCells);
            expect(size.instances).toBeLessThanOrEqual(bounds.maxInstances);
            expect(size.followers).toBeLessThanOrEqual(bounds.maxFollowers);
            for (const app of ['a1', 'a2', 'a3']) expect(buffer.cellsOf({ app })).toBeLessThanOrEqual(bounds.maxCellsPerApp);
            for (const token of ['t1', 't2']) expect(buffer.cellsOf({ token })).toBeLessThanOrEqual(bounds.maxCellsPerToken);
          }
          check(buffer.drain());
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('TrafficBuffer: outcomes and comparisons', () => {
  const outcome = (calls: number, failures: number, latency: [number, number][]) => ({ calls, failures, latency });
  const entry = (bucketStart: number, receivedAt = bucketStart, samples = 0) => ({
    bucketStart,
    receivedAt,
    outcomes: new Map([
      [
        'a',
        {
          NEW: outcome(3, 1, [
            [10, 2],
            [20, 1],
          ]),
          LEGACY: outcome(0, 0, []),
        },
      ],
    ] as const),
    comparisons: new Map([
      [
        'a',
        {
          compared: 10,
          mismatches: 1,
          otherFailures: 2,
          timeouts: 0,
          samples: Array.from({ length: samples }, (_, i) => ({ at: `2026-01-01T12:00:0${i % 10}Z`, served: 'NEW' as const, subject: '0123456789abcdef', diff: `d${i}` })),
        },
      ],
    ] as const),
  });

  it('sums segment coverage per slice, segment, app and minute; it alone does not hurry the write', () => {
    const buffer = new TrafficBuffer();
    const coverage = (kenya: number, staff: number) => ({
      bucketStart: T0,
      receivedAt: T0,
      outcomes: new Map(),
      comparisons: new Map(),
      coverage: new Map([
        [
          'a',
          {
            sampled: 10,
            segments: new Map([
              ['kenya', kenya],
              ['staff', staff],
            ]),
          },
        ],
      ] as const),
    });
    expect(buffer.add(instance(), undefined, 't', coverage(4, 0))).toBe('accepted');
    expect(buffer.add(instance({ instanceId: 'pod-2' }), undefined, 't', coverage(3, 1))).toBe('accepted');
    expect(buffer.holdsOutcomes).toBe(false);
    expect(buffer.isEmpty).toBe(false);
    expect(buffer.outcomeSize.outcomeCells).toBe(2);
    const rows = buffer.drain().outcomeCells!.map((c) => [c.kind, c.sliceKey, c.segmentKey, c.sums]);
    expect(rows).toEqual([
      ['coverage', 'a', 'kenya', [20n, 7n]],
      ['coverage', 'a', 'staff', [20n, 1n]],
    ]);
    expect(buffer.isEmpty).toBe(true);
  });

  it('adds outcomes, latency buckets and comparisons of the same slice, app and minute, exactly', () => {
    const buffer = new TrafficBuffer();
    expect(buffer.add(instance(), undefined, 't', entry(T0))).toBe('accepted');
    expect(buffer.add(instance({ instanceId: 'pod-2' }), undefined, 't', entry(T0))).toBe('accepted');
    expect(buffer.holdsOutcomes).toBe(true);
    const batch = buffer.drain();
    expect(buffer.holdsOutcomes).toBe(false);
    const rows = batch.outcomeCells!.map((c) => [c.kind, c.path, c.sums, [...c.latency]]);
    // LEGACY made no calls: no row. Sorted by kind, then key.
    expect(rows).toEqual([
      ['comparison', null, [20n, 2n, 4n, 0n], []],
      [
        'outcome',
        'NEW',
        [6n, 2n],
        [
          [10, 4n],
          [20, 2n],
        ],
      ],
    ]);
  });

  it('counts outcome cells towards the app and token shares, and refuses the whole report past them', () => {
    const buffer = new TrafficBuffer(limits({ maxCellsPerApp: 3 }));
    expect(buffer.add(instance(), counts(T0, { a: [1, 1] }), 't', entry(T0))).toBe('cell_limit');
    expect(buffer.isEmpty).toBe(true);
    expect(buffer.add(instance(), undefined, 't', entry(T0))).toBe('accepted');
    expect(buffer.cellsOf({ app: 'payments-api' })).toBe(2);
  });

  it('keeps the newest 50 samples of a slice, and puts a batch back after a failed write', () => {
    const buffer = new TrafficBuffer();
    for (let i = 0; i < 12; i++) expect(buffer.add(instance(), undefined, 't', entry(T0, T0 + i, 5))).toBe('accepted');
    const batch = buffer.drain();
    expect(batch.samples).toHaveLength(50);
    expect(batch.samples![0]!.receivedAt).toBe(T0 + 2);
    expect(buffer.droppedSamples).toBe(10);
    buffer.restore(batch);
    expect(buffer.outcomeSize).toEqual({ outcomeCells: 2, samples: 50 });
    const [one, two] = splitBatch(buffer.drain());
    expect(rowsIn(one) + rowsIn(two)).toBe(53); // and the instance
  });
});

describe('TrafficBuffer: outcomes of many reports', () => {
  const path = fc.record({
    calls: fc.integer({ min: 0, max: 5 }),
    failures: fc.nat(5),
    latency: fc.uniqueArray(fc.integer({ min: 0, max: 551 }), { maxLength: 3 }),
    big: fc.boolean(),
  });
  const report = fc.record({
    app: fc.constantFrom('a', 'a b', 'b\u00e9'),
    minute: fc.integer({ min: 0, max: 2 }),
    slices: fc.dictionary(fc.constantFrom('s1', 's2', 's.3'), fc.record({ NEW: fc.option(path, { nil: undefined }), LEGACY: fc.option(path, { nil: undefined }) })),
    compared: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  });

  it('holds, per slice, app, minute and path, exactly the sums of what the reports said, past 2^53 too', () => {
    fc.assert(
      fc.property(fc.array(report, { maxLength: 12 }), (reports) => {
        const buffer = new TrafficBuffer();
        const expected = new Map<string, bigint[]>();
        const addExpected = (key: string, values: bigint[]) => {
          const held = expected.get(key) ?? values.map(() => 0n);
          expected.set(
            key,
            held.map((v, i) => saturatedSum(v, values[i]!)),
          );
        };
        for (const r of reports) {
          const bucketStart = T0 + r.minute * 60_000;
          const outcomes: [string, SliceOutcomeReport][] = [];
          for (const [sliceKey, paths] of Object.entries(r.slices)) {
            const slice: Partial<Record<'NEW' | 'LEGACY', PathOutcomeReport>> = {};
            for (const p of ['NEW', 'LEGACY'] as const) {
              const gen = paths[p];
              if (gen === undefined) continue;
              // Counts near the largest safe integer: their sums are exact only as bigints.
              const scale = gen.big ? Number.MAX_SAFE_INTEGER - 5 : 0;
              const latency = gen.latency.sort((x, y) => x - y).map((bucket, i): [number, number] => [bucket, i === 0 ? gen.calls + scale : 1]);
              const calls = latency.reduce((sum, [, count]) => sum + count, 0);
              if (!Number.isSafeInteger(calls)) continue;
              slice[p] = { calls, failures: Math.min(gen.failures, calls), latency };
              if (calls > 0) {
                addExpected(`${sliceKey}|${r.app}|${bucketStart}|${p}`, [BigInt(calls), BigInt(Math.min(gen.failures, calls))]);
                for (const [bucket, count] of latency) addExpected(`${sliceKey}|${r.app}|${bucketStart}|${p}|${bucket}`, [BigInt(count)]);
              }
            }
            outcomes.push([sliceKey, slice]);
          }
          const comparisons: [string, ComparisonReport][] =
            r.compared === undefined ? [] : [['s1', { compared: r.compared, mismatches: 0, otherFailures: 1, timeouts: 0, samples: [] }]];
          for (const [sliceKey, c] of comparisons) addExpected(`${sliceKey}|${r.app}|${bucketStart}|cmp`, [BigInt(c.compared), 0n, 1n, 0n]);
          expect(
            buffer.add(instance({ appName: r.app }), undefined, 't', { bucketStart, receivedAt: bucketStart, outcomes: new Map(outcomes), comparisons: new Map(comparisons) }),
          ).toBe('accepted');
        }
        const actual = new Map<string, bigint[]>();
        for (const cell of buffer.drain().outcomeCells ?? []) {
          const at = `${cell.sliceKey}|${cell.appName}|${cell.bucketStart}`;
          if (cell.kind === 'comparison') actual.set(`${at}|cmp`, cell.sums);
          else {
            actual.set(`${at}|${cell.path}`, cell.sums);
            for (const [bucket, count] of cell.latency) actual.set(`${at}|${cell.path}|${bucket}`, [count]);
          }
        }
        expect(actual).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe('TrafficBuffer: every kind of cell under tight bounds (property)', () => {
  const figures = fc.record({ calls: fc.integer({ min: 0, max: 3 }), bucket: fc.integer({ min: 0, max: 551 }) });
  const step = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('add' as const),
        app: fc.constantFrom('a1', 'a2'),
        instanceId: fc.constantFrom('i1', 'i2', 'i3'),
        token: fc.constantFrom('t1', 't2'),
        minute: fc.integer({ min: 0, max: 2 }),
        counts: fc.dictionary(fc.constantFrom('s1', 's2', 's3'), fc.record({ NEW: fc.nat(3), LEGACY: fc.nat(3) })),
        outcomes: fc.dictionary(fc.constantFrom('s1', 's2', 's4'), fc.record({ NEW: figures, LEGACY: figures })),
        compared: fc.dictionary(fc.constantFrom('s1', 's5'), fc.nat(2)),
        coverage: fc.dictionary(fc.constantFrom('s1', 's2'), fc.dictionary(fc.constantFrom('kenya', 'staff'), fc.nat(2))),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'restore' as const }) },
  );

  it('takes a report whole or not at all, within its bounds, and puts a drained batch back as it was', () => {
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 40 }),
        tightLimits({ maxCells: 40, maxCellsPerApp: 30, maxCellsPerToken: 30, maxInstances: 6, maxFollowers: 12 }),
        (steps, bounds) => {
          const buffer = new TrafficBuffer(bounds);
          for (const s of steps) {
            if (s.kind === 'restore') {
              // What a failed write does with an empty buffer: the same batch comes out again.
              const batch = buffer.drain();
              expect(buffer.isEmpty).toBe(true);
              expect(buffer.restore(batch)).toBe(0n);
              expect(buffer.drain()).toEqual(batch);
              buffer.restore(batch);
              continue;
            }
            const bucketStart = T0 + s.minute * MINUTE_MS;
            const path = (f: { calls: number; bucket: number }) => ({ calls: f.calls, failures: 0, latency: f.calls === 0 ? [] : [[f.bucket, f.calls] as [number, number]] });
            const entry = {
              bucketStart,
              receivedAt: bucketStart,
              outcomes: new Map(Object.entries(s.outcomes).map(([k, o]) => [k, { NEW: path(o.NEW), LEGACY: path(o.LEGACY) }])),
              comparisons: new Map(Object.entries(s.compared).map(([k, n]) => [k, { compared: n, mismatches: 0, otherFailures: 0, timeouts: 0, samples: [] }])),
              coverage: new Map(Object.entries(s.coverage).map(([k, segments]) => [k, { sampled: 2, segments: new Map(Object.entries(segments)) }])),
            };
            const before = { size: buffer.size, outcomeSize: buffer.outcomeSize, app: buffer.cellsOf({ app: s.app }), token: buffer.cellsOf({ token: s.token }) };
            const outcome = buffer.add(
              instance({ appName: s.app, instanceId: s.instanceId }),
              counts(bucketStart, Object.fromEntries(Object.entries(s.counts).map(([k, c]) => [k, [c.NEW, c.LEGACY]]))),
              s.token,
              entry,
            );
            const after = { size: buffer.size, outcomeSize: buffer.outcomeSize, app: buffer.cellsOf({ app: s.app }), token: buffer.cellsOf({ token: s.token }) };
            if (outcome !== 'accepted') expect(after).toEqual(before);
            const cells = after.size.cells + after.outcomeSize.outcomeCells;
            expect(cells).toBeLessThanOrEqual(bounds.maxCells);
            expect(after.size.instances).toBeLessThanOrEqual(bounds.maxInstances);
            expect(after.size.followers).toBeLessThanOrEqual(bounds.maxFollowers);
            expect(after.app).toBeLessThanOrEqual(bounds.maxCellsPerApp);
            expect(after.token).toBeLessThanOrEqual(bounds.maxCellsPerToken);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('addCount (outcome sums held as numbers while they are safe integers)', () => {
  it('adds counts exactly as bigints do, saturating at the largest bigint (property)', () => {
    const count = fc.oneof(fc.nat(1_000), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constant(Number.MAX_SAFE_INTEGER));
    fc.assert(
      fc.property(fc.array(count, { maxLength: 2_000 }), (counts) => {
        let held: number | bigint = 0;
        let exact = 0n;
        for (const c of counts) {
          held = addCount(held, c);
          exact = saturatedSum(exact, BigInt(c));
          expect(BigInt(held)).toBe(exact);
          if (typeof held === 'number') expect(Number.isSafeInteger(held)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
    expect(addCount(Number.MAX_SAFE_INTEGER - 1, 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(addCount(Number.MAX_SAFE_INTEGER, 1)).toBe(2n ** 53n);
    expect(addCount(MAX_CELL_COUNT, Number.MAX_SAFE_INTEGER)).toBe(MAX_CELL_COUNT);
  });
});
