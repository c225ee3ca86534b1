import fc from 'fast-check';
import { InstanceEvidenceBuffer, type TakenReport } from './instance-evidence.js';

const report = (instanceId: string, slices: string[], over: Partial<TakenReport> = {}): TakenReport => ({
  appName: 'checkout',
  instanceId,
  bucketStart: 60_000,
  slices: new Map(slices.map((k) => [k, { NEW: 3, LEGACY: 7 }])),
  outcomes: new Map(slices.map((k) => [k, { NEW: { calls: 3, failures: 1, latency: [[40, 3]] as [number, number][] } }])),
  comparisons: new Map(),
  ...over,
});

describe('InstanceEvidenceBuffer', () => {
  it('keeps watched slices only, per instance, adding figures and histograms', () => {
    const sut = new InstanceEvidenceBuffer(10);
    const watched = new Set(['a']);
    sut.add(report('p1', ['a', 'b']), watched);
    sut.add(report('p1', ['a']), watched);
    sut.add(report('p2', ['a']), watched);
    const cells = sut.drain();
    expect(cells.map((c) => [c.sliceKey, c.instanceId, c.next.calls, c.next.failures, [...c.next.latency], c.newDecisions, c.legacyDecisions])).toEqual([
      ['a', 'p1', 6, 2, [[40, 6]], 6, 14],
      ['a', 'p2', 3, 1, [[40, 3]], 3, 7],
    ]);
    expect(sut.size).toBe(0);
  });

  it('keeps histograms only for the slices whose plan reads them (a latency gate), counts for every kept slice', () => {
    const sut = new InstanceEvidenceBuffer(10);
    sut.add(report('p1', ['a', 'b']), new Set(['a', 'b']), new Set(['b']));
    expect(sut.drain().map((c) => [c.sliceKey, c.next.calls, c.next.failures, [...c.next.latency]])).toEqual([
      ['a', 3, 1, []],
      ['b', 3, 1, [[40, 3]]],
    ]);
  });

  it('holds at most maxCells whatever the instance ids; a report that does not fit is not kept at all', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (ids, max) => {
        const sut = new InstanceEvidenceBuffer(max);
        for (const id of ids) sut.add(report(id, ['a', 'b']), new Set(['a', 'b']));
        expect(sut.size).toBeLessThanOrEqual(max);
        // Every cell held comes in pairs (both slices of a report, or neither).
        const cells = sut.drain();
        expect(cells.filter((c) => c.sliceKey === 'a').length).toBe(cells.filter((c) => c.sliceKey === 'b').length);
      }),
    );
  });

  it('restores cells a write could not take, merged with what came since, within the bound', () => {
    const sut = new InstanceEvidenceBuffer(2);
    const watched = new Set(['a']);
    sut.add(report('p1', ['a']), watched);
    const drained = sut.drain();
    sut.add(report('p1', ['a']), watched);
    sut.add(report('p2', ['a']), watched);
    expect(sut.restore([...drained, { ...drained[0]!, instanceId: 'p3' }])).toBe(1);
    expect(sut.drain().map((c) => [c.instanceId, c.next.calls])).toEqual([
      ['p1', 6],
      ['p2', 3],
    ]);
  });

  it('saturates at the largest safe integer instead of losing precision', () => {
    const sut = new InstanceEvidenceBuffer();
    const big = report('p1', ['a'], { slices: new Map([['a', { NEW: Number.MAX_SAFE_INTEGER, LEGACY: 0 }]]) });
    sut.add(big, new Set(['a']));
    sut.add(big, new Set(['a']));
    expect(sut.drain()[0]!.newDecisions).toBe(Number.MAX_SAFE_INTEGER);
  });
});
