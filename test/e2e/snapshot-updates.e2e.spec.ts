import { jest } from '@jest/globals';
import type { SnapshotDefinition } from '@switchyard/client-sdk/core';
import { SnapshotRepository } from '../../src/delivery/snapshot.repository.js';
import { SnapshotService } from '../../src/delivery/snapshot.service.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';

/**
 * The service keeps its snapshot current by reading only what history names as changed since the
 * snapshot it holds (SnapshotRepository.loadSince). These tests drive the real mutations in a
 * seeded random order over a few slices and segments, and after each one compare the snapshot the
 * service publishes with a whole read of the database at that revision: they must be equal,
 * definition for definition, in the same order.
 */
describe('snapshot updates read only what changed, and equal a whole read', () => {
  let t: TestApp;
  let service: SnapshotService;
  let repository: SnapshotRepository;
  beforeAll(async () => {
    t = await createTestApp();
    service = t.app.get(SnapshotService);
    repository = t.app.get(SnapshotRepository);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Waits until the service has published the latest committed revision, and returns its definition. */
  async function published(): Promise<SnapshotDefinition> {
    const head = await repository.revision();
    for (let i = 0; i < 250; i++) {
      const current = service.current();
      if (current !== null && current.revision >= head) return current.definition;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`the service never published revision ${head}`);
  }

  it('over 150 random mutations of slices and segments', async () => {
    const random = mulberry32(20261124);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const run = `u${Date.now().toString(36)}`;
    const sliceKeys = Array.from({ length: 6 }, (_, i) => `${run}.slice-${i}`);
    const segmentKeys = Array.from({ length: 4 }, (_, i) => `${run}.segment-${i}`);
    const segmentConstraints = () => [{ attribute: 'country', operator: 'IN', values: Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(['KE', 'GH', 'NG', 'UG'])) }];
    // Targeting names segments that exist (mostly): a walk of refusals would test little.
    const existing = new Set<string>();
    const someSegments = (min = 0) => {
      const chosen = [...existing].filter(() => random() < 0.5);
      return chosen.length >= min || existing.size === 0 ? chosen : [pick([...existing])];
    };
    // Changes go mostly to slices in a state that accepts them, as read from the last snapshot.
    let held = await published();
    const sliceIn = (state: string) => {
      const keys = held.slices.filter((s) => s.key.startsWith(run) && s.state === state).map((s) => s.key);
      return keys.length > 0 && random() < 0.9 ? pick(keys) : pick(sliceKeys);
    };
    const newSlice = () => {
      const keys = sliceKeys.filter((key) => !held.slices.some((s) => s.key === key));
      return keys.length > 0 ? pick(keys) : pick(sliceKeys);
    };
    const segment = (exists: boolean) => {
      const keys = segmentKeys.filter((key) => existing.has(key) === exists);
      return keys.length > 0 && random() < 0.9 ? pick(keys) : pick(segmentKeys);
    };
    const loadSpy = jest.spyOn(repository, 'load');
    const loadSinceSpy = jest.spyOn(repository, 'loadSince');
    const seen = { applied: 0, refused: 0 };

    const operations: (() => Promise<boolean>)[] = [
      () => attempt('mutation($k: String!, $p: Float!) { createSlice(key: $k, percent: $p, tags: ["walk"]) { key } }', { k: newSlice(), p: pick([0, 5, 50, 100]) }),
      () => attempt('mutation($k: String!, $p: Float!) { setRollout(key: $k, reason: "test", percent: $p) { key } }', { k: sliceIn('ACTIVE'), p: pick([0, 0.25, 12.5, 100]) }),
      () =>
        attempt('mutation($k: String!, $i: [String!]!, $e: [String!]!, $r: [RuleInput!]!) { setTargeting(key: $k, reason: "test", include: $i, exclude: $e, rules: $r) { key } }', {
          k: sliceIn('ACTIVE'),
          i: someSegments(),
          e: someSegments(),
          r: random() < 0.4 || existing.size === 0 ? [] : [{ percent: pick([10, 100]), segments: someSegments(1) }],
        }),
      async () => {
        const k = segment(false);
        const created = await attempt('mutation($k: String!, $c: [ConstraintInput!]!) { createSegment(key: $k, constraints: $c) { key } }', { k, c: segmentConstraints() });
        if (created) existing.add(k);
        return created;
      },
      () => attempt('mutation($k: String!, $c: [ConstraintInput!]!) { updateSegment(key: $k, constraints: $c) { key } }', { k: segment(true), c: segmentConstraints() }),
      async () => {
        const k = segment(true);
        const deleted = await attempt('mutation($k: String!) { deleteSegment(key: $k) { key } }', { k });
        if (deleted) existing.delete(k);
        return deleted;
      },
      () => attempt('mutation($k: String!) { rollback(key: $k, reason: "walk") { key } }', { k: sliceIn('ACTIVE') }),
      () => attempt('mutation($k: String!) { resume(key: $k, reason: "walk") { key } }', { k: sliceIn('ROLLED_BACK') }),
      () => attempt('mutation { rollbackAll(reason: "walk", tag: "walk") { count } }', {}),
      () => attempt('mutation($k: String!, $d: String!) { updateSlice(key: $k, description: $d) { key } }', { k: pick(sliceKeys), d: `d${random()}` }),
      () => (random() < 0.1 ? attempt('mutation($k: String!) { archiveSlice(key: $k, reason: "test") { key } }', { k: pick(sliceKeys) }) : Promise.resolve(false)),
    ];

    /** Sends a mutation; refusals (unknown key, segment in use, archived slice...) are part of the walk. */
    async function attempt(query: string, variables: Record<string, unknown>): Promise<boolean> {
      const res = await t.admin.request(query, variables);
      if (res.errors?.length) {
        // Only the service's own refusals: anything else is a broken test.
        expect(res.errors[0]!.extensions?.code).toEqual(expect.any(String));
        expect(res.errors[0]!.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
        seen.refused++;
        return false;
      }
      seen.applied++;
      return true;
    }

    // How many of the walk's segments the snapshot held at most, and how often one left it.
    let mostSegments = 0;
    let segmentsLeft = 0;
    let previous = new Set<string>();
    // Observation settings change the snapshot but no decision: every fourth step also changes
    // them, drawn from a PRNG of their own so that the walk above stays the one it was.
    const observeRandom = mulberry32(13);
    const observe = () => {
      const of = <T>(xs: readonly T[]): T => xs[Math.floor(observeRandom() * xs.length)]!;
      return attempt('mutation($k: String!, $w: Boolean, $s: Float) { setObservation(key: $k, watched: $w, shadowPercent: $s) { key } }', {
        k: of(sliceKeys),
        w: of([true, false, null]),
        s: of([0, 0.25, 50, null]),
      });
    };
    for (let step = 0; step < 150; step++) {
      await pick(operations)();
      if (step % 4 === 3) await observe();
      const incremental = await published();
      held = incremental;
      const whole = (await repository.load()).definition;
      expect({ step, definition: incremental }).toEqual({ step, definition: whole });
      const segments = new Set(incremental.segments.map((g) => g.key).filter((key) => key.startsWith(run)));
      mostSegments = Math.max(mostSegments, segments.size);
      if ([...previous].some((key) => !segments.has(key))) segmentsLeft++;
      previous = segments;
    }

    // The walk did change things, and every update after the first read was incremental.
    expect(seen.applied).toBeGreaterThan(60);
    expect(loadSinceSpy.mock.calls.length).toBeGreaterThan(40);
    // Our own 150 whole reads above; at most one by the service (its periodic check: 10 resyncs of 30 s).
    expect(loadSpy.mock.calls.length).toBeLessThanOrEqual(151);
    expect(mostSegments).toBeGreaterThanOrEqual(3);
    expect(segmentsLeft).toBeGreaterThan(0);
    loadSpy.mockRestore();
    loadSinceSpy.mockRestore();
  });

  it('a rollback of more slices than it reads by key falls back to one whole read, with the same result', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `many.${Date.now().toString(36)}.${i}`);
    for (const key of keys) await t.admin.ok('mutation($k: String!) { createSlice(key: $k, percent: 100, tags: ["many"]) { key } }', { k: key });
    await published();
    await t.admin.ok('mutation { rollbackAll(reason: "many", tag: "many") { count } }');
    const incremental = await published();
    expect(incremental.slices.filter((s) => keys.includes(s.key)).every((s) => s.state === 'ROLLED_BACK')).toBe(true);
    expect(incremental).toEqual((await repository.load()).definition);
  });

  it('a change made in the database behind Switchyard (no history) is found by the periodic check and goes out with the next change', async () => {
    const fast = await createTestApp({ SWITCHYARD_SNAPSHOT_RESYNC_MS: '100' });
    try {
      const fastService = fast.app.get(SnapshotService);
      const fastRepository = fast.app.get(SnapshotRepository);
      const [patched, other] = [`oob.${Date.now().toString(36)}.a`, `oob.${Date.now().toString(36)}.b`];
      // Ten slices, so that a delta of two is smaller than the whole snapshot (and is sent as one).
      const fillers = Array.from({ length: 8 }, (_, i) => `${patched}.filler-${i}`);
      for (const key of [patched, other, ...fillers]) await fast.admin.ok('mutation($k: String!) { createSlice(key: $k, percent: 10) { key } }', { k: key });
      const head = await fastRepository.revision();
      await waitFor(() => fastService.current()?.revision === head);

      // A manual fix during an incident: no history row, no new revision.
      await fast.dataSource.query('UPDATE slices SET basis_points = 4200 WHERE key = $1', [patched]);
      // The check (a whole read every 10th resync: about a second here) notices, and logs it; the next change carries it.
      const loads = jest.spyOn(fastRepository, 'load');
      await waitFor(() => loads.mock.calls.length > 0, 10_000);
      await loads.mock.results[0]!.value;
      await new Promise((r) => setTimeout(r, 20));
      loads.mockRestore();
      await fast.admin.ok('mutation($k: String!) { setRollout(key: $k, reason: "test", percent: 20) { key } }', { k: other });
      const next = await fastRepository.revision();
      await waitFor(() => fastService.current()?.revision === next);
      const published = fastService.current()!;
      expect(published.definition).toEqual((await fastRepository.load()).definition);
      expect(published.definition.slices.find((s) => s.key === patched)?.basisPoints).toBe(4200);
      // And the delta the streams get says so.
      const delta = JSON.parse(published.deltaEvent!.toString('utf8').split('data: ')[1]!) as { slices: { key: string }[] };
      expect(delta.slices.map((s) => s.key).sort()).toEqual([patched, other].sort());
    } finally {
      await fast.close();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A small seeded PRNG, so a failing walk can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
