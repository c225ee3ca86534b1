/**
 * What a running plan step should do, given its evidence (contract.ts; docs/plan-statistics.md).
 * Pure: no I/O, no clock; the verdict is a function of this look's cumulative evidence alone, and
 * every test is anytime-valid, so the runner may look as often as it likes.
 *
 *  - FAIL, at once, when any configured gate fails (its action; ROLLBACK wins over PAUSE).
 *  - ADVANCE only when the minimum duration has passed, the evidence minimums are met by the apps
 *    that follow (each reporter capped: reporters.ts), no reporter's figures were refused, and every
 *    configured gate PASSes.
 *  - HOLD otherwise, saying for what: "1,212 of 5,000 NEW calls", "23 min of 6 h".
 * Hostile input (NaN, negatives, failures > calls) never throws and never advances.
 */
import type { GateResult, PlanGates, StepInput, StepVerdict } from './contract.js';
import { failureRateGate } from './failure-rate-gate.js';
import { formatCount, formatDuration } from './format.js';
import { type GateContext, gateResult } from './gate-context.js';
import { latencyGate } from './latency-gate.js';
import { mismatchGate } from './mismatch-gate.js';
import { observedShareGate } from './observed-share-gate.js';
import { DEFAULT_PARAMETERS, type EvaluationParameters } from './parameters.js';
import { type CleanReporter, capBites, cappedEvidence, checkReporters, pool } from './reporters.js';

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** Durations (ms) and minimums: non-negative safe integers; a year of 1e300 ms is as refusable as NaN. */
const nonNegative = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isAction = (v: unknown) => v === 'ROLLBACK' || v === 'PAUSE';
const isRate = (v: unknown) => finite(v) && v >= 0 && v <= 1;

/** The gates that are configured, each checked: settings that make no sense leave that gate NOT_ENOUGH_DATA. */
function evaluateGates(gates: PlanGates, basisPoints: number | null, context: GateContext): GateResult[] {
  const results: GateResult[] = [];
  const refuse = (name: GateResult['gate'], onFail: unknown) =>
    gateResult(name, 'NOT_ENOUGH_DATA', onFail === 'PAUSE' ? 'PAUSE' : 'ROLLBACK', "the gate's settings are not valid: it cannot pass", {});
  const { failureRate, latency, mismatch, observedShare } = gates ?? {};
  if (failureRate) {
    results.push(isRate(failureRate.ceiling) && isAction(failureRate.onFail) ? failureRateGate(failureRate, context) : refuse('FAILURE_RATE', failureRate.onFail));
  }
  if (latency) {
    const ok = [50, 95, 99].includes(latency.percentile) && finite(latency.maxRatio) && latency.maxRatio > 0 && finite(latency.ceilingMs) && latency.ceilingMs > 0;
    results.push(ok && isAction(latency.onFail) ? latencyGate(latency, context) : refuse('LATENCY', latency.onFail));
  }
  if (mismatch) {
    results.push(isRate(mismatch.threshold) && isAction(mismatch.onFail) ? mismatchGate(mismatch, context) : refuse('MISMATCH', mismatch.onFail));
  }
  if (observedShare) {
    const ok = isRate(observedShare.tolerance) && basisPoints !== null && isAction(observedShare.onFail);
    results.push(ok ? observedShareGate(observedShare, basisPoints, context) : refuse('OBSERVED_SHARE', observedShare.onFail));
  }
  return results;
}

/**
 * The recent window's figures, pooled over the apps with a reporter accepted in the step's own
 * evidence and whose recent figures are counts too; null when absent, malformed, or starting at minute 0 (then
 * it is the whole step's evidence, already tested).
 */
function recentWindow(recent: StepInput['recent'], accepted: readonly CleanReporter[], followers: readonly string[]): GateContext['recent'] {
  const startMinute = recent?.startMinute;
  if (!nonNegative(startMinute) || startMinute === 0) return null;
  // The recent window is read per app (its reporters are apps), the step's evidence per app and
  // per instance (`app/instance`): an app counts when some reporter of it was accepted.
  const apps = new Set(accepted.map((r) => r.app));
  const checked = checkReporters(Array.isArray(recent?.evidence) ? recent.evidence : [], followers).accepted.filter((r) => apps.has(r.reporter));
  return { pooled: pool(checked), startMinute };
}

/** The minute of the step (0-based) the recent window starts at, `elapsedMs` into a step that started `offsetMs` into its minute. */
export function recentWindowStart(elapsedMs: number, offsetMs: number, parameters: EvaluationParameters = DEFAULT_PARAMETERS): number {
  const minute = Math.floor((Math.max(0, elapsedMs) + Math.max(0, offsetMs)) / 60_000);
  return Math.max(0, minute - parameters.recentWindowMinutes + 1);
}

const GATE_WORDS: Record<GateResult['gate'], string> = {
  FAILURE_RATE: 'failure rate',
  LATENCY: 'latency',
  MISMATCH: 'mismatch rate',
  OBSERVED_SHARE: 'observed share',
};

export function evaluateStep(input: StepInput, parameters: EvaluationParameters = DEFAULT_PARAMETERS): StepVerdict {
  const step = input?.step;
  const followers = Array.isArray(input?.followers) ? input.followers.filter((f): f is string => typeof f === 'string') : [];
  const { accepted, refused } = checkReporters(input?.evidence, followers);
  const baselineChecked =
    input?.baseline === undefined
      ? null
      : checkReporters([{ reporter: 'baseline', legacy: input.baseline, next: input.baseline, compared: 0, mismatches: 0, decisions: 0, newDecisions: 0 }], []);
  const baseline = baselineChecked?.accepted[0]?.legacy ?? null;
  const basisPoints = finite(step?.basisPoints) && step.basisPoints >= 0 && step.basisPoints <= 10000 ? step.basisPoints : null;
  const context: GateContext = { reporters: accepted, pooled: pool(accepted), baseline, parameters, recent: recentWindow(input?.recent, accepted, followers) };
  const gates = evaluateGates(input?.gates, basisPoints, context);

  const failed = gates.filter((g) => g.verdict === 'FAIL');
  if (failed.length > 0) {
    const decisive = failed.find((g) => g.onFail === 'ROLLBACK') ?? failed[0]!;
    return { kind: 'FAIL', action: decisive.onFail, failed: decisive, gates };
  }

  const waitingFor: string[] = [];
  const elapsed = input?.elapsedMs;
  const minDuration = step?.minDurationMs;
  if (!nonNegative(elapsed) || !nonNegative(minDuration)) waitingFor.push('a valid elapsed time and minimum duration');
  else if (elapsed < minDuration) waitingFor.push(`${formatDuration(elapsed)} of ${formatDuration(minDuration)}`);
  if (basisPoints === null) waitingFor.push('a valid step target (0 to 10,000 basis points)');

  const followerApps = new Set(followers).size;
  const fromFollowers = accepted.filter((r) => r.follows);
  if (followerApps === 0) waitingFor.push('an app that follows the slice');
  else if (!fromFollowers.some((r) => r.decisions > 0 || r.next.calls > 0 || r.legacy.calls > 0))
    waitingFor.push(`evidence from the apps that follow (${followers.slice(0, 3).join(', ')}${followerApps > 3 ? '...' : ''})`);
  const minimum = (label: (have: string, need: string) => string, need: unknown, value: (r: CleanReporter) => number) => {
    if (!nonNegative(need)) {
      waitingFor.push(label('?', 'a valid minimum'));
      return;
    }
    const values = accepted.map((r) => ({ reporter: r, value: value(r) }));
    const have = cappedEvidence(values, need, followerApps, parameters.maxReporterShare);
    if (have < need) {
      const capped = capBites(values, need, followerApps, parameters.maxReporterShare);
      const note = capped ? ` (one reporter or app counts for at most ${formatCount(Math.ceil(need * parameters.maxReporterShare))})` : '';
      waitingFor.push(label(formatCount(have), formatCount(need)) + note);
    }
  };
  minimum(
    (have, need) => `${have} of ${need} NEW calls`,
    step?.minNewCalls,
    (r) => r.next.calls,
  );
  minimum(
    (have, need) => `comparisons: ${have} of ${need}`,
    step?.minComparisons,
    (r) => r.compared,
  );
  if (refused.length > 0) waitingFor.push(`valid figures from ${refused.join(', ')} (refused)`);
  for (const g of gates) if (g.verdict !== 'PASS') waitingFor.push(`${GATE_WORDS[g.gate]}: ${g.summary}`);

  if (waitingFor.length > 0) return { kind: 'HOLD', waitingFor, gates };
  return { kind: 'ADVANCE', gates };
}
