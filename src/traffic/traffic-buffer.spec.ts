import { bucketStartFor, decisionsIn, type InstanceObservation, mergeInstance, MINUTE_MS, TrafficBuffer } from './traffic-buffer.js';

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
    seenAt: T0,
    ...overrides,
  };
}

const counts = (bucketStart: number, entries: Record<string, [number, number]>) => ({
  bucketStart,
  slices: Object.entries(entries).map(([k, [NEW, LEGACY]]) => [k, { NEW, LEGACY }] as const),
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

  it('lets a report without a sync time (bootstrap only) replace only another without one', () => {
    const synced = instance({ revision: 10, syncedAt: T0 });
    const bootstrap = instance({ revision: 3, syncedAt: null, seenAt: T0 + 1_000 });
    expect(mergeInstance(synced, bootstrap)).toMatchObject({ revision: 10, syncedAt: T0, seenAt: T0 + 1_000 });
    expect(mergeInstance(instance({ revision: 2, syncedAt: null }), bootstrap)).toMatchObject({ revision: 3, syncedAt: null });
  });
});

describe('TrafficBuffer', () => {
  it('adds counts per slice, app, path and minute, skipping zeros, and marks the instance a follower', () => {
    const buffer = new TrafficBuffer();
    expect(buffer.add(instance(), counts(T0, { a: [3, 7], b: [0, 0], c: [0, 4] }))).toBe(true);
    expect(buffer.add(instance({ seenAt: T0 + 30_000 }), counts(T0, { a: [1, 1] }))).toBe(true);
    expect(buffer.add(instance({ appName: 'billing-api' }), counts(T0, { a: [5, 0] }))).toBe(true);
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
    buffer.add(instance(), counts(T0, { a: [max, 0] }));
    buffer.add(instance(), counts(T0, { a: [max, 0] }));
    expect(buffer.drain().cells[0]!.count).toBe(2n * BigInt(max));
  });

  it('takes a report whole or not at all when full', () => {
    const buffer = new TrafficBuffer({ maxCells: 3, maxInstances: 10, maxFollowers: 10 });
    expect(buffer.add(instance(), counts(T0, { a: [1, 1] }))).toBe(true);
    // Two more cells would make four: refused, nothing of it kept.
    expect(buffer.add(instance({ instanceId: 'pod-2' }), counts(T0, { b: [1, 1] }))).toBe(false);
    expect(buffer.size).toEqual({ cells: 2, instances: 1, followers: 1 });
    // Existing cells still take more counts; one new cell still fits.
    expect(buffer.add(instance(), counts(T0, { a: [5, 5], c: [1, 0] }))).toBe(true);
    expect(buffer.size.cells).toBe(3);
    expect(new TrafficBuffer({ maxCells: 10, maxInstances: 1, maxFollowers: 10 }).add(instance(), undefined)).toBe(true);
  });

  it('restores a batch that could not be written, merged with what came since, dropping what does not fit', () => {
    const buffer = new TrafficBuffer({ maxCells: 3, maxInstances: 10, maxFollowers: 10 });
    buffer.add(instance(), counts(T0, { a: [1, 2] }));
    const failed = buffer.drain();
    buffer.add(instance({ revision: 11, syncedAt: T0 + 1_000, seenAt: T0 + 1_000 }), counts(T0, { a: [10, 0], b: [0, 7], c: [1, 0] }));
    // a/NEW adds to the cell held; a/LEGACY would be a fourth cell: its 2 decisions are dropped.
    expect(buffer.restore(failed)).toBe(2n);
    const batch = buffer.drain();
    expect(batch.cells.map((c) => [c.sliceKey, c.path, c.count])).toEqual([
      ['a', 'NEW', 11n],
      ['b', 'LEGACY', 7n],
      ['c', 'NEW', 1n],
    ]);
    // The newer observation of the instance wins, whichever was merged into which.
    expect(batch.instances).toEqual([instance({ revision: 11, syncedAt: T0 + 1_000, seenAt: T0 + 1_000 })]);
    expect(batch.followers.map((f) => [f.sliceKey, f.reportedAt])).toEqual([
      ['a', T0 + 1_000],
      ['b', T0 + 1_000],
      ['c', T0 + 1_000],
    ]);
  });
});
