/**
 * npm run sim:plans
 *
 * The offline simulation of plan steps (issue 14; docs/plan-statistics.md, "Simulation"): it runs
 * the service's own `evaluateStep` (src/plans/evaluation) at every look of simulated plans, with
 * counts drawn per look (binomial and multinomial draws from a seeded PRNG, not per call), and prints
 *  (a) A/A: the share of plans (steps 5 % / 50 % / 100 %, a look every 5 s, LEGACY and NEW identical)
 *      that complete without a rollback, with its 95 % interval;
 *  (b) the detection delay (median and p95, seconds from the regression's start to the FAIL verdict)
 *      of NEW failure-rate regressions of 2x, 5x and 20x at 10, 100 and 1,000 NEW calls per second;
 *  (c) the same after 6 hours of healthy traffic at the step (100 NEW calls per second), where the
 *      recent-window test does the work that the whole step's evidence no longer can.
 * Every look passes the recent window's evidence (per-minute buckets, as the runner reads them).
 *
 * SIM_PLANS=2000 SIM_TRIALS=200 SIM_LATE_TRIALS=20 SIM_SEED=14
 */
import { LATENCY_BUCKETS, mergeSparse, type SparseHistogram } from '@switchyard/client-sdk/core';
import type { PlanGates, ReporterEvidence, StepInput, StepVerdict } from '../../src/plans/evaluation/contract.js';
import { evaluateStep, recentWindowStart } from '../../src/plans/evaluation/evaluate-step.js';
import { bucketEdges } from '../../src/plans/evaluation/quantile-bounds.js';
import { mulberry32 } from '../utils/prng.js';

const PLANS = Number(process.env.SIM_PLANS ?? 2000);
const TRIALS = Number(process.env.SIM_TRIALS ?? 100);
const LATE_TRIALS = Number(process.env.SIM_LATE_TRIALS ?? 20);
const SEED = Number(process.env.SIM_SEED ?? 14);

const LOOK_MS = 5_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Baseline: 0.5 % of calls fail on both paths; latency log-normal, median 40 ms, p99 about 100 ms. */
const FAILURE_RATE = 0.005;
const LATENCY_MEDIAN_MS = 40;
const LATENCY_SIGMA = 0.4;
/** Shadow comparisons on 10 % of calls; under A/A a few mismatch anyway (nondeterminism), a fifth of the threshold. */
const SHADOW_SHARE = 0.1;
const MISMATCH_RATE = 0.0002;
/** Three apps follow, with 60 %, 30 % and 10 % of the traffic. */
const APPS = [
  { name: 'payments-api', weight: 0.6 },
  { name: 'payments-worker', weight: 0.3 },
  { name: 'backoffice', weight: 0.1 },
];
const GATES: PlanGates = {
  failureRate: { ceiling: 0.05, onFail: 'ROLLBACK' },
  latency: { percentile: 95, maxRatio: 1.5, ceilingMs: 2_000, onFail: 'ROLLBACK' },
  mismatch: { threshold: 0.001, onFail: 'ROLLBACK' },
  observedShare: { tolerance: 0.02, onFail: 'PAUSE' },
};
/** The plan: calls per second over the whole slice; steps with realistic minimum durations and evidence. */
const SLICE_CALLS_PER_SECOND = 200;
const STEPS = [
  { basisPoints: 500, minDurationMs: 15 * MINUTE, minNewCalls: 5_000, minComparisons: 5_000 },
  { basisPoints: 5_000, minDurationMs: 30 * MINUTE, minNewCalls: 50_000, minComparisons: 5_000 },
  { basisPoints: 10_000, minDurationMs: 30 * MINUTE, minNewCalls: 50_000, minComparisons: 5_000 },
];
/** A step that has not advanced after this long is counted as stuck (not a rollback, not a completion). */
const STEP_TIMEOUT_MS = 24 * HOUR;

// --- seeded randomness -------------------------------------------------------------------------

/** mulberry32: a small, fast, seeded PRNG (uniform in [0, 1)). */

function normal(random: () => number): number {
  let u = 0;
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Binomial(n, p): exact inversion for small means, the normal approximation (rounded, clamped) for large ones. */
function binomial(random: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(random, n, 1 - p);
  const mean = n * p;
  if (mean < 30) {
    // Inversion: walk the pmf from 0.
    const q = 1 - p;
    let pmf = Math.pow(q, n);
    if (pmf === 0) return Math.round(mean);
    let cdf = pmf;
    const u = random();
    let k = 0;
    while (u > cdf && k < n) {
      pmf *= ((n - k) / (k + 1)) * (p / q);
      cdf += pmf;
      k++;
      if (pmf < 1e-17 && k > mean) break;
    }
    return k;
  }
  const draw = Math.round(mean + Math.sqrt(mean * (1 - p)) * normal(random));
  return Math.min(n, Math.max(0, draw));
}

function erf(x: number): number {
  // Abramowitz and Stegun 7.1.26 (absolute error under 1.5e-7): plenty for bucket probabilities.
  const s = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return s * y;
}

/** The log-normal's probability of each log2pct-v1 bucket (those above 1e-9). */
function bucketProbabilities(medianMs: number, sigma: number): { bucket: number; p: number }[] {
  const cdf = (ms: number) => (ms <= 0 ? 0 : ms === Infinity ? 1 : 0.5 * (1 + erf(Math.log(ms / medianMs) / (sigma * Math.SQRT2))));
  const out: { bucket: number; p: number }[] = [];
  for (let b = 0; b < LATENCY_BUCKETS; b++) {
    const { lower, upper } = bucketEdges(b);
    const p = cdf(upper) - cdf(lower);
    if (p > 1e-9) out.push({ bucket: b, p });
  }
  return out;
}

/** Adds a multinomial draw of `n` durations to a dense histogram (conditional binomials, bucket by bucket). */
function addDurations(random: () => number, dense: Float64Array, n: number, probabilities: { bucket: number; p: number }[]): void {
  let left = n;
  let mass = 1;
  for (let i = 0; i < probabilities.length && left > 0; i++) {
    const { bucket, p } = probabilities[i]!;
    const k = i === probabilities.length - 1 ? left : binomial(random, left, Math.min(1, p / mass));
    dense[bucket]! += k;
    left -= k;
    mass -= p;
  }
}

function sparse(dense: Float64Array): [number, number][] {
  const out: [number, number][] = [];
  for (let b = 0; b < dense.length; b++) if (dense[b]! > 0) out.push([b, dense[b]!]);
  return out;
}

// --- one step --------------------------------------------------------------------------------

interface Path {
  calls: number;
  failures: number;
  latency: Float64Array;
}
interface App {
  name: string;
  weight: number;
  legacy: Path;
  next: Path;
  compared: number;
  mismatches: number;
  decisions: number;
  newDecisions: number;
  /** Per minute of the step: NEW's and LEGACY's calls and failures (the runner's buckets). */
  minutes: { newCalls: number; newFailures: number; legacyCalls: number; legacyFailures: number }[];
}

const LATENCY = bucketProbabilities(LATENCY_MEDIAN_MS, LATENCY_SIGMA);
const newPath = (): Path => ({ calls: 0, failures: 0, latency: new Float64Array(LATENCY_BUCKETS) });

/** NEW's failure rate at a moment of the step (ms since it started). */
type NewFailureRate = (atMs: number) => number;

interface StepRun {
  verdict: StepVerdict;
  elapsedMs: number;
  legacy: { calls: number; failures: number; latency: SparseHistogram };
}

function runStep(
  random: () => number,
  step: (typeof STEPS)[number],
  callsPerSecond: number,
  newFailureRate: NewFailureRate,
  baseline: StepInput['baseline'],
  timeoutMs: number,
): StepRun {
  const apps: App[] = APPS.map((a) => ({ ...a, legacy: newPath(), next: newPath(), compared: 0, mismatches: 0, decisions: 0, newDecisions: 0, minutes: [] }));
  const share = step.basisPoints / 10000;
  const perLook = (callsPerSecond * LOOK_MS) / 1000;
  for (let elapsedMs = LOOK_MS; ; elapsedMs += LOOK_MS) {
    const failNew = newFailureRate(elapsedMs);
    for (const app of apps) {
      const calls = binomial(random, Math.round(perLook * 2), app.weight / 2);
      const onNew = binomial(random, calls, share);
      const onLegacy = calls - onNew;
      const newFailures = binomial(random, onNew, failNew);
      const legacyFailures = binomial(random, onLegacy, FAILURE_RATE);
      const minute = Math.floor((elapsedMs - 1) / MINUTE);
      const bucket = (app.minutes[minute] ??= { newCalls: 0, newFailures: 0, legacyCalls: 0, legacyFailures: 0 });
      bucket.newCalls += onNew;
      bucket.newFailures += newFailures;
      bucket.legacyCalls += onLegacy;
      bucket.legacyFailures += legacyFailures;
      app.next.calls += onNew;
      app.next.failures += newFailures;
      addDurations(random, app.next.latency, onNew, LATENCY);
      app.legacy.calls += onLegacy;
      app.legacy.failures += legacyFailures;
      addDurations(random, app.legacy.latency, onLegacy, LATENCY);
      const compared = binomial(random, calls, SHADOW_SHARE);
      app.compared += compared;
      app.mismatches += binomial(random, compared, MISMATCH_RATE);
      app.decisions += calls;
      app.newDecisions += onNew;
    }
    const evidence: ReporterEvidence[] = apps.map((a) => ({
      reporter: a.name,
      legacy: { calls: a.legacy.calls, failures: a.legacy.failures, latency: sparse(a.legacy.latency) },
      next: { calls: a.next.calls, failures: a.next.failures, latency: sparse(a.next.latency) },
      compared: a.compared,
      mismatches: a.mismatches,
      decisions: a.decisions,
      newDecisions: a.newDecisions,
    }));
    const startMinute = recentWindowStart(elapsedMs, 0);
    const recent: ReporterEvidence[] = apps.map((a) => {
      const sum = { newCalls: 0, newFailures: 0, legacyCalls: 0, legacyFailures: 0 };
      for (let m = startMinute; m < a.minutes.length; m++) {
        const b = a.minutes[m];
        if (b === undefined) continue;
        sum.newCalls += b.newCalls;
        sum.newFailures += b.newFailures;
        sum.legacyCalls += b.legacyCalls;
        sum.legacyFailures += b.legacyFailures;
      }
      return {
        reporter: a.name,
        legacy: { calls: sum.legacyCalls, failures: sum.legacyFailures, latency: [] },
        next: { calls: sum.newCalls, failures: sum.newFailures, latency: [] },
        compared: 0,
        mismatches: 0,
        decisions: 0,
        newDecisions: 0,
      };
    });
    const input: StepInput = {
      step,
      gates: GATES,
      elapsedMs,
      evidence,
      followers: APPS.map((a) => a.name),
      recent: { startMinute, evidence: recent },
      ...(baseline ? { baseline } : {}),
    };
    const verdict = evaluateStep(input);
    if (verdict.kind !== 'HOLD' || elapsedMs >= timeoutMs) {
      const legacy = {
        calls: evidence.reduce((s, e) => s + e.legacy.calls, 0),
        failures: evidence.reduce((s, e) => s + e.legacy.failures, 0),
        latency: mergeSparse(evidence.map((e) => e.legacy.latency)),
      };
      return { verdict, elapsedMs, legacy };
    }
  }
}

// --- (a) A/A ---------------------------------------------------------------------------------

type PlanOutcome = 'COMPLETED' | 'ROLLED_BACK' | 'PAUSED' | 'STUCK';

function runPlan(random: () => number): { outcome: PlanOutcome; gate?: string; durationsMs: number[] } {
  let baseline: StepInput['baseline'];
  const durationsMs: number[] = [];
  for (const step of STEPS) {
    const run = runStep(random, step, SLICE_CALLS_PER_SECOND, () => FAILURE_RATE, step.basisPoints === 10000 ? baseline : undefined, STEP_TIMEOUT_MS);
    durationsMs.push(run.elapsedMs);
    if (run.verdict.kind === 'FAIL') return { outcome: run.verdict.action === 'ROLLBACK' ? 'ROLLED_BACK' : 'PAUSED', gate: run.verdict.failed.gate, durationsMs };
    if (run.verdict.kind === 'HOLD') return { outcome: 'STUCK', durationsMs };
    baseline = run.legacy;
  }
  return { outcome: 'COMPLETED', durationsMs };
}

/** Wilson's 95 % interval for a share (E. B. Wilson, JASA 1927). */
function wilson(successes: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = successes / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

function aa(): void {
  const random = mulberry32(SEED);
  const counts: Record<PlanOutcome, number> = { COMPLETED: 0, ROLLED_BACK: 0, PAUSED: 0, STUCK: 0 };
  const byGate = new Map<string, number>();
  const stepDurations: number[][] = [[], [], []];
  const started = performance.now();
  for (let i = 0; i < PLANS; i++) {
    const { outcome, gate, durationsMs } = runPlan(random);
    counts[outcome]++;
    if (gate) byGate.set(gate, (byGate.get(gate) ?? 0) + 1);
    durationsMs.forEach((d, s) => stepDurations[s]!.push(d));
    // Progress on stderr, so a long run on a busy machine shows where it stands.
    if ((i + 1) % 100 === 0) process.stderr.write(`    ... ${i + 1} plans: rolled back ${counts.ROLLED_BACK}, paused ${counts.PAUSED}, stuck ${counts.STUCK}\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  const noRollback = PLANS - counts.ROLLED_BACK;
  const [low, high] = wilson(noRollback, PLANS);
  console.log(
    `(a) A/A: ${PLANS} plans (steps 5 % / 50 % / 100 %, minimum 15 / 30 / 30 min, a look every 5 s, ${SLICE_CALLS_PER_SECOND} calls/s, 3 apps, failure rate ${pct(FAILURE_RATE)} on both paths)`,
  );
  console.log(`    completed without a rollback: ${noRollback} of ${PLANS} = ${pct(noRollback / PLANS)}, 95 % interval [${pct(low)}, ${pct(high)}] (target >= 99 %)`);
  console.log(`    completed ${counts.COMPLETED}, rolled back ${counts.ROLLED_BACK}, paused ${counts.PAUSED}, stuck (a step over ${STEP_TIMEOUT_MS / HOUR} h) ${counts.STUCK}`);
  if (byGate.size > 0) console.log(`    failing gates: ${[...byGate].map(([g, n]) => `${g} ${n}`).join(', ')}`);
  stepDurations.forEach((d, s) => {
    const sorted = [...d].sort((a, b) => a - b);
    console.log(
      `    step ${s + 1} (${STEPS[s]!.basisPoints / 100} %) ran: median ${(quantile(sorted, 0.5) / MINUTE).toFixed(1)} min, p95 ${(quantile(sorted, 0.95) / MINUTE).toFixed(1)} min`,
    );
  });
  console.log(`    (${seconds.toFixed(1)} s)`);
}

// --- (b) detection delay ------------------------------------------------------------------------

function detection(): void {
  const random = mulberry32(SEED + 1);
  console.log('');
  console.log(`(b) detection delay of a NEW failure-rate regression in the 5 % step (from ${pct(FAILURE_RATE)}), starting at a random moment in its first 10 min;`);
  console.log(`    seconds from the regression's start to the FAIL verdict, ${TRIALS} trials each`);
  console.log('    NEW calls/s | regression | median s | p95 s | failed on');
  for (const newPerSecond of [10, 100, 1000]) {
    for (const factor of [2, 5, 20]) {
      const delays: number[] = [];
      const gates = new Map<string, number>();
      let missed = 0;
      for (let t = 0; t < TRIALS; t++) {
        const startMs = Math.floor(random() * 10 * MINUTE);
        const rate: NewFailureRate = (at) => (at > startMs ? FAILURE_RATE * factor : FAILURE_RATE);
        // A step that would advance is held on (minimum duration of a day) so that only detection ends it.
        const run = runStep(random, { ...STEPS[0]!, minDurationMs: 24 * HOUR }, newPerSecond / 0.05, rate, undefined, startMs + 6 * HOUR);
        if (run.verdict.kind !== 'FAIL') {
          missed++;
          continue;
        }
        gates.set(run.verdict.failed.gate, (gates.get(run.verdict.failed.gate) ?? 0) + 1);
        delays.push((run.elapsedMs - startMs) / 1000);
      }
      delays.sort((a, b) => a - b);
      const on = [...gates].map(([g, n]) => `${g} ${n}`).join(', ') + (missed > 0 ? `; not within 6 h: ${missed}` : '');
      console.log(
        `    ${String(newPerSecond).padStart(11)} | ${`${factor}x`.padStart(10)} | ${(delays.length ? quantile(delays, 0.5) : NaN).toFixed(0).padStart(8)} | ${(delays.length ? quantile(delays, 0.95) : NaN).toFixed(0).padStart(5)} | ${on}`,
      );
    }
  }
}

function late(): void {
  const random = mulberry32(SEED + 2);
  const healthyMs = 6 * HOUR;
  console.log('');
  console.log(`(c) the same after ${healthyMs / HOUR} h of healthy traffic at the 5 % step (the regression starts at a random moment in the 10 min after),`);
  console.log(`    100 NEW calls/s; the recent window (the last ${5} minutes) against the whole step's evidence, ${LATE_TRIALS} trials each`);
  console.log('    regression | median s | p95 s | failed on');
  for (const factor of [2, 5, 20]) {
    const delays: number[] = [];
    let missed = 0;
    const on = new Map<string, number>();
    for (let t = 0; t < LATE_TRIALS; t++) {
      const startMs = healthyMs + Math.floor(random() * 10 * MINUTE);
      const rate: NewFailureRate = (at) => (at > startMs ? FAILURE_RATE * factor : FAILURE_RATE);
      const run = runStep(random, { ...STEPS[0]!, minDurationMs: 48 * HOUR }, 100 / 0.05, rate, undefined, startMs + 2 * HOUR);
      if (run.verdict.kind !== 'FAIL') {
        missed++;
        continue;
      }
      if (run.elapsedMs < startMs) {
        on.set('before the regression', (on.get('before the regression') ?? 0) + 1);
        continue;
      }
      const why = run.verdict.failed.summary.includes('since minute') ? 'recent window' : run.verdict.failed.gate;
      on.set(why, (on.get(why) ?? 0) + 1);
      delays.push((run.elapsedMs - startMs) / 1000);
    }
    delays.sort((a, b) => a - b);
    const text = [...on].map(([g, n]) => `${g} ${n}`).join(', ') + (missed > 0 ? `; not within 2 h: ${missed}` : '');
    console.log(
      `    ${`${factor}x`.padStart(10)} | ${(delays.length ? quantile(delays, 0.5) : NaN).toFixed(0).padStart(8)} | ${(delays.length ? quantile(delays, 0.95) : NaN).toFixed(0).padStart(5)} | ${text}`,
    );
  }
}

const which = process.argv[2] ?? 'all';
if (which === 'all' || which === 'aa') aa();
if (which === 'all' || which === 'detection') detection();
if (which === 'all' || which === 'late') late();
