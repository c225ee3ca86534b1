/**
 * Segment coverage: the recorder's bounds and take/settle (pure), then a real client against a
 * real HTTP peer (testing/protocol-server.ts): exact counts, the sampling countdown being
 * deterministic. The service side is tested in test/e2e/segment-coverage.e2e.spec.ts.
 */
import { ClientFactory, snapshotAt } from '../testing/fixtures.js';
import { ProtocolServer } from '../testing/protocol-server.js';
import { waitFor } from '../testing/wait-for.js';
import type { MetricsReport } from '../transport/metrics-reporter.js';
import { COVERAGE_SAMPLE_EVERY, MAX_COVERAGE_SEGMENTS, MAX_COVERAGE_SLICES, SegmentCoverageRecorder } from './segment-coverage.js';

describe('SegmentCoverageRecorder', () => {
  it('counts sampled decisions per slice and, per named segment, those in it; take copies, settle subtracts', () => {
    const sut = new SegmentCoverageRecorder();
    sut.record('checkout', ['staff', 'kenya'], (s) => s === 'staff');
    sut.record('checkout', ['staff', 'kenya'], () => false);
    sut.record('search', [], () => true); // names no segment: nothing to say
    const batch = sut.take();
    expect(JSON.parse(JSON.stringify(batch))).toEqual({ checkout: { sampled: 2, segments: { staff: 1, kenya: 0 } } });
    sut.record('checkout', ['staff', 'kenya'], () => true); // after the take: stays for the next report
    sut.settle(batch);
    expect(JSON.parse(JSON.stringify(sut.take()))).toEqual({ checkout: { sampled: 1, segments: { staff: 1, kenya: 1 } } });
    sut.settle(sut.take());
    expect(sut.take()).toEqual({});
  });

  it('is bounded: valid slice keys only, at most MAX_COVERAGE_SLICES slices and MAX_COVERAGE_SEGMENTS segments a slice', () => {
    const sut = new SegmentCoverageRecorder();
    sut.record('Not A Key', ['staff'], () => true);
    for (let i = 0; i < MAX_COVERAGE_SLICES + 5; i++) sut.record(`s${i}`, ['staff'], () => true);
    const many = Array.from({ length: MAX_COVERAGE_SEGMENTS + 10 }, (_, i) => `seg${i}`);
    sut.record('s0', many, () => true);
    const batch = sut.take();
    expect(Object.keys(batch)).toHaveLength(MAX_COVERAGE_SLICES);
    expect(batch['Not A Key']).toBeUndefined();
    expect(Object.keys(batch.s0!.segments)).toHaveLength(MAX_COVERAGE_SEGMENTS);
    expect(batch.s0).toMatchObject({ sampled: 2, segments: { staff: 1, seg0: 1, seg1: 1 } });
  });
});

describe('segment coverage in usage reports', () => {
  let server: ProtocolServer;
  const clients = new ClientFactory();
  const reports = () => server.reports as MetricsReport[];
  const coverageOf = (slice: string) =>
    reports().reduce(
      (sum, r) => {
        const c = r.segmentCoverage?.[slice];
        return { sampled: sum.sampled + (c?.sampled ?? 0), staff: sum.staff + (c?.segments.staff ?? 0) };
      },
      { sampled: 0, staff: 0 },
    );

  beforeEach(async () => {
    server = await ProtocolServer.start(snapshotAt(1));
  });
  afterEach(async () => {
    await clients.closeAll();
    await server.stop();
  });

  it('samples every 64th decision (random at 0.5), whatever the slice, and counts who was in the segments the slice names', async () => {
    // random fixed at 0.5: the gap between two samples is exactly 64 (client.ts sampleCoverage).
    const client = await clients.create(server.url, { metricsIntervalMs: 100 }, { random: () => 0.5 });
    // 10 blocks of 64 decisions on `search` (which includes segment `staff`): the last one of each
    // block is sampled. Alice (staff) decides in the first 3 blocks, bob in the other 7.
    for (let block = 0; block < 10; block++) {
      for (let i = 0; i < COVERAGE_SAMPLE_EVERY; i++) client.decide('search', { userId: block < 3 ? 'alice' : 'bob' });
    }
    // `checkout` names no segment: its sampled decisions report nothing. explain counts like decide.
    for (let i = 0; i < COVERAGE_SAMPLE_EVERY * 2; i++) client.explain('checkout', { userId: 'alice' });
    await waitFor(() => coverageOf('search').sampled === 10, 3_000, 'the coverage');
    expect(coverageOf('search')).toEqual({ sampled: 10, staff: 3 });
    expect(reports().some((r) => r.segmentCoverage?.checkout !== undefined)).toBe(false);
    // Later reports carry only what is new.
    for (let i = 0; i < COVERAGE_SAMPLE_EVERY; i++) client.decide('search', { userId: 'alice' });
    await waitFor(() => coverageOf('search').sampled === 11, 3_000, 'the next sample');
    expect(coverageOf('search')).toEqual({ sampled: 11, staff: 4 });
    expect(clients.errors).toEqual([]);
  });

  it('draws the gap between samples from 1 to 127: with random at 0, every decision is sampled', async () => {
    const client = await clients.create(server.url, { metricsIntervalMs: 100 }, { random: () => 0 });
    // The first sample comes after 64 (the initial gap); from then on every decision.
    for (let i = 0; i < COVERAGE_SAMPLE_EVERY + 9; i++) client.decide('search', { userId: 'alice' });
    await waitFor(() => coverageOf('search').sampled === 10, 3_000, 'the coverage');
    expect(coverageOf('search')).toEqual({ sampled: 10, staff: 10 });
  });
});
