import { wilsonInterval } from './outcome-statistics.js';
import { namedSegmentsOf, segmentCoverageOf } from './segment-coverage.js';

describe('segment coverage figures', () => {
  it('names every segment of include, exclude, rules and rolled-back segments once, sorted', () => {
    expect(
      namedSegmentsOf({
        targeting: { include: ['staff'], exclude: ['vip'], rules: [{ segments: ['kenya', 'staff'] }, { segments: ['ghana'] }] },
        rolledBackSegments: ['kenya'],
      }),
    ).toEqual(['ghana', 'kenya', 'staff', 'vip']);
  });

  it('gives the share with its Wilson interval and that share of the decisions; not measured without a sample', () => {
    const figures = segmentCoverageOf(['kenya', 'staff'], new Map([['kenya', { sampled: 200, inSegment: 60 }]]), 12_800);
    expect(figures[0]).toEqual({
      segmentKey: 'kenya',
      measured: true,
      sampled: 200,
      inSegment: 60,
      share: wilsonInterval(60, 200),
      decisions: 12_800,
      estimatedDecisions: { estimate: 3_840, low: wilsonInterval(60, 200)!.low * 12_800, high: wilsonInterval(60, 200)!.high * 12_800 },
    });
    expect(figures[1]).toEqual({ segmentKey: 'staff', measured: false, sampled: 0, inSegment: 0, share: null, decisions: 12_800, estimatedDecisions: null });
  });

  it('never shows more in a segment than sampled (rows from a lying past are capped)', () => {
    expect(segmentCoverageOf(['kenya'], new Map([['kenya', { sampled: 5, inSegment: 9 }]]), 10)[0]).toMatchObject({ inSegment: 5, share: { estimate: 1 } });
  });
});
