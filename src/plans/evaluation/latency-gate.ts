/**
 * The latency gate (docs/plan-statistics.md, "Latency"). Pure.
 *
 * For the configured percentile, time-uniform bounds on NEW's and on LEGACY's (or the baseline's)
 * from their merged histograms (quantile-bounds.ts: the histogram's 2 % is in the bounds).
 * FAIL when NEW's lower bound exceeds `maxRatio` times LEGACY's upper bound, or the ceiling, pooled
 * or for one reporter on its own (each side read from at least latencyMinimum durations).
 * PASS when NEW's upper bound is at or under `maxRatio` times LEGACY's lower bound and under the ceiling.
 * NOT_ENOUGH_DATA otherwise: too few durations (the minimum is stated in the summary), or bounds too
 * wide to tell. Note that the bounds can never be closer than two buckets (some 8 %), so a
 * `maxRatio` under about 1.1 cannot PASS.
 */
import type { SparseHistogram } from '@switchyard/client-sdk/core';
import type { GateResult, PlanGates } from './contract.js';
import { figure, formatCount, formatMs, formatRatio } from './format.js';
import { type GateContext, gateResult, separately } from './gate-context.js';
import { latencyMinimum } from './parameters.js';
import { type QuantileBounds, quantileBounds } from './quantile-bounds.js';

type LatencyGate = NonNullable<PlanGates['latency']>;

function countOf(histogram: SparseHistogram): number {
  let n = 0;
  for (const [, c] of histogram) n += c;
  return n;
}

interface Comparison {
  readonly next: QuantileBounds;
  readonly other: QuantileBounds;
  readonly fails: boolean;
}

function compare(next: SparseHistogram, other: SparseHistogram, q: number, gate: LatencyGate, alpha: number): Comparison {
  const n = quantileBounds(next, q, alpha);
  const o = quantileBounds(other, q, alpha);
  const fails = n.low > gate.maxRatio * o.high || n.low > gate.ceilingMs;
  return { next: n, other: o, fails };
}

export function latencyGate(gate: LatencyGate, context: GateContext): GateResult {
  const { pooled, baseline, parameters, reporters } = context;
  const q = gate.percentile / 100;
  const minimum = latencyMinimum(gate.percentile, parameters.latencyTail);
  const otherHistogram = baseline?.latency ?? pooled.legacy.latency;
  const enough = (next: SparseHistogram, other: SparseHistogram) => countOf(next) >= minimum && countOf(other) >= minimum;
  const own = separately(reporters, (r) => enough(r.next.latency, baseline?.latency ?? r.legacy.latency));
  // Bonferroni over the confidence sequences that a FAIL rests on: NEW's and LEGACY's, pooled and per reporter.
  const alpha = parameters.alphaFail / (2 * (1 + own.length));
  const pooledEnough = enough(pooled.next.latency, otherHistogram);
  const main = compare(pooled.next.latency, otherHistogram, q, gate, alpha);
  const failing = own.filter((r) => compare(r.next.latency, baseline?.latency ?? r.legacy.latency, q, gate, alpha).fails).map((r) => r.reporter);
  const pass = compare(pooled.next.latency, otherHistogram, q, gate, parameters.alphaPass / 2);

  const p = `p${gate.percentile}`;
  const side = baseline !== null ? 'LEGACY baseline' : 'LEGACY';
  const ratio = main.next.estimate !== null && main.other.estimate !== null ? main.next.estimate / main.other.estimate : null;
  const figures = {
    percentile: gate.percentile,
    newCount: main.next.count,
    newMs: main.next.estimate === null ? null : figure(main.next.estimate),
    newLowMs: figure(main.next.low),
    newHighMs: figure(pass.next.high),
    legacyCount: main.other.count,
    legacyMs: main.other.estimate === null ? null : figure(main.other.estimate),
    legacyLowMs: figure(pass.other.low),
    legacyHighMs: figure(main.other.high),
    ratio: ratio === null ? null : figure(ratio),
    maxRatio: gate.maxRatio,
    ceilingMs: gate.ceilingMs,
    minimumCount: minimum,
  };
  const head = `${p} NEW ${formatMs(main.next.estimate)} vs ${side} ${formatMs(main.other.estimate)} (${ratio === null ? '?' : formatRatio(ratio)}, max ${formatRatio(gate.maxRatio)}, ceiling ${formatMs(gate.ceilingMs)})`;

  if ((pooledEnough && main.fails) || failing.length > 0) {
    const why =
      pooledEnough && main.fails
        ? main.next.low > gate.ceilingMs
          ? `NEW's ${p} is above the ceiling: at least ${formatMs(main.next.low)}`
          : `NEW's ${p} is at least ${formatMs(main.next.low)}, over ${formatRatio(gate.maxRatio)} LEGACY's at most ${formatMs(main.other.high)}`
        : `NEW is slower for ${failing.join(', ')}`;
    return gateResult('LATENCY', 'FAIL', gate.onFail, `${head}; ${why}`, figures, failing);
  }
  if (!pooledEnough) {
    return gateResult(
      'LATENCY',
      'NOT_ENOUGH_DATA',
      gate.onFail,
      `${head}; a ${p} is read from at least ${formatCount(minimum)} durations per path: NEW ${formatCount(main.next.count)}, ${side} ${formatCount(main.other.count)}`,
      figures,
    );
  }
  if (pass.next.high <= gate.maxRatio * pass.other.low && pass.next.high <= gate.ceilingMs) {
    return gateResult('LATENCY', 'PASS', gate.onFail, `${head}; NEW's ${p} at most ${formatMs(pass.next.high)}`, figures);
  }
  return gateResult(
    'LATENCY',
    'NOT_ENOUGH_DATA',
    gate.onFail,
    `${head}; cannot tell yet: NEW's ${p} up to ${formatMs(pass.next.high)}, ${side}'s from ${formatMs(pass.other.low)}`,
    figures,
  );
}
