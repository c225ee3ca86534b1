import type { FieldViolation } from '../common/errors/switchyard.exception.js';
import type { GateAction, PlanGates } from './evaluation/contract.js';
import type { PlanStep } from './plan-record.js';

/** Bounds on what a plan may say: a plan is configuration a person reads at a glance. */
export const MAX_STEPS = 20;
export const MIN_STEP_DURATION_MS = 60_000;
export const MAX_STEP_DURATION_MS = 90 * 86_400_000;
export const MAX_EVIDENCE = 1_000_000_000;

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * "30m", "6h", "1d": a whole number (no sign, no leading zero, no fraction, no space) and one unit,
 * minutes to 90 days. Anything else is null: "1.5h", "90", "1D", "1h30m", " 1d".
 */
export function parseDuration(text: string): number | null {
  const match = /^([1-9][0-9]{0,5})([mhd])$/.exec(text);
  if (match === null) return null;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms >= MIN_STEP_DURATION_MS && ms <= MAX_STEP_DURATION_MS ? ms : null;
}

export interface StepInputFields {
  readonly percent: number;
  readonly minDuration: string;
  readonly minNewCalls: number;
  readonly minComparisons: number;
  readonly requiresApproval: boolean;
}

export interface GateInputFields {
  readonly failureRate?: { readonly ceilingPercent: number; readonly onFail: GateAction } | null;
  readonly latency?: { readonly percentile: number; readonly maxRatio: number; readonly ceilingMs: number; readonly onFail: GateAction } | null;
  readonly mismatch?: { readonly thresholdPercent: number; readonly onFail: GateAction } | null;
  readonly observedShare?: { readonly tolerancePercent: number; readonly onFail: GateAction } | null;
}

const isPercent = (p: number) => Number.isFinite(p) && p > 0 && p <= 100 && Math.abs(Math.round(p * 100) - p * 100) < 1e-6;
const isCount = (n: number) => Number.isInteger(n) && n >= 0 && n <= MAX_EVIDENCE;

/**
 * Steps as stored, or every violation: 1 to MAX_STEPS steps, each 0 < percent <= 100 (two
 * decimals), percents strictly increasing (a plan only raises exposure; lowering is a rollback),
 * a duration parseDuration accepts, evidence counts 0 to MAX_EVIDENCE.
 */
export function parseSteps(steps: readonly StepInputFields[]): { steps: PlanStep[] } | { violations: FieldViolation[] } {
  const violations: FieldViolation[] = [];
  if (steps.length === 0 || steps.length > MAX_STEPS) violations.push({ field: 'steps', message: `give 1 to ${MAX_STEPS} steps` });
  const parsed: PlanStep[] = [];
  steps.slice(0, MAX_STEPS).forEach((s, i) => {
    const at = `steps[${i}]`;
    if (!isPercent(s.percent)) violations.push({ field: `${at}.percent`, message: 'more than 0 and at most 100, two decimals at most' });
    else if (i > 0 && isPercent(steps[i - 1]!.percent) && s.percent <= steps[i - 1]!.percent) {
      violations.push({ field: `${at}.percent`, message: `must be above the step before (${steps[i - 1]!.percent})` });
    }
    const ms = typeof s.minDuration === 'string' ? parseDuration(s.minDuration) : null;
    if (ms === null) violations.push({ field: `${at}.minDuration`, message: 'a whole number and m, h or d ("30m", "6h", "1d"), from 1 minute to 90 days' });
    if (!isCount(s.minNewCalls)) violations.push({ field: `${at}.minNewCalls`, message: `a whole number, 0 to ${MAX_EVIDENCE}` });
    if (!isCount(s.minComparisons)) violations.push({ field: `${at}.minComparisons`, message: `a whole number, 0 to ${MAX_EVIDENCE}` });
    parsed.push({
      basisPoints: Math.round(s.percent * 100),
      minDuration: s.minDuration,
      minDurationMs: ms ?? 0,
      minNewCalls: s.minNewCalls,
      minComparisons: s.minComparisons,
      requiresApproval: s.requiresApproval === true,
    });
  });
  return violations.length > 0 ? { violations } : { steps: parsed };
}

const isAction = (a: unknown): a is GateAction => a === 'ROLLBACK' || a === 'PAUSE';
const inRange = (n: number, low: number, high: number) => Number.isFinite(n) && n >= low && n <= high;

/** Gates as the evaluation takes them (rates as fractions), or every violation. */
export function parseGates(g: GateInputFields): { gates: PlanGates } | { violations: FieldViolation[] } {
  const violations: FieldViolation[] = [];
  const gates: { -readonly [K in keyof PlanGates]: PlanGates[K] } = {};
  const action = (field: string, a: unknown) => {
    if (!isAction(a)) violations.push({ field, message: 'ROLLBACK or PAUSE' });
  };
  if (g.failureRate != null) {
    if (!inRange(g.failureRate.ceilingPercent, 0, 100)) violations.push({ field: 'gates.failureRate.ceilingPercent', message: '0 to 100' });
    action('gates.failureRate.onFail', g.failureRate.onFail);
    gates.failureRate = { ceiling: g.failureRate.ceilingPercent / 100, onFail: g.failureRate.onFail };
  }
  if (g.latency != null) {
    const p = g.latency.percentile;
    if (p !== 50 && p !== 95 && p !== 99) violations.push({ field: 'gates.latency.percentile', message: '50, 95 or 99' });
    if (!inRange(g.latency.maxRatio, 1, 100)) violations.push({ field: 'gates.latency.maxRatio', message: '1 to 100' });
    if (!inRange(g.latency.ceilingMs, 1, 3_600_000)) violations.push({ field: 'gates.latency.ceilingMs', message: '1 ms to 1 hour' });
    action('gates.latency.onFail', g.latency.onFail);
    gates.latency = { percentile: p as 50 | 95 | 99, maxRatio: g.latency.maxRatio, ceilingMs: g.latency.ceilingMs, onFail: g.latency.onFail };
  }
  if (g.mismatch != null) {
    if (!inRange(g.mismatch.thresholdPercent, 0, 100)) violations.push({ field: 'gates.mismatch.thresholdPercent', message: '0 to 100' });
    action('gates.mismatch.onFail', g.mismatch.onFail);
    gates.mismatch = { threshold: g.mismatch.thresholdPercent / 100, onFail: g.mismatch.onFail };
  }
  if (g.observedShare != null) {
    if (!inRange(g.observedShare.tolerancePercent, 0, 100)) violations.push({ field: 'gates.observedShare.tolerancePercent', message: '0 to 100 (points)' });
    action('gates.observedShare.onFail', g.observedShare.onFail);
    gates.observedShare = { tolerance: g.observedShare.tolerancePercent / 100, onFail: g.observedShare.onFail };
  }
  return violations.length > 0 ? { violations } : { gates };
}
