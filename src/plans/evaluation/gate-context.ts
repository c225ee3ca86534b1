/**
 * What every gate reads: the accepted reporters, their pooled figures, the baseline (if any) and the
 * parameters. Pure.
 */
import type { GateAction, GateName, GateResult, GateVerdict } from './contract.js';
import type { EvaluationParameters } from './parameters.js';
import type { CleanPath, CleanReporter, Pooled } from './reporters.js';

export interface GateContext {
  readonly reporters: readonly CleanReporter[];
  readonly pooled: Pooled;
  /** LEGACY's figures from the previous step, replacing the step's own LEGACY for comparisons; null: none. */
  readonly baseline: CleanPath | null;
  readonly parameters: EvaluationParameters;
  /** The recent window's pooled figures and the step minute it starts at (at least 1); null: no recent-window test. */
  readonly recent: { readonly pooled: Pooled; readonly startMinute: number } | null;
}

/** The reporters tested on their own: those with data, when there are two or more (one reporter's test is the pooled one). */
export function separately<T extends CleanReporter>(reporters: readonly T[], hasData: (r: T) => boolean): T[] {
  const withData = reporters.filter(hasData);
  return withData.length >= 2 ? withData : [];
}

export function gateResult(
  gate: GateName,
  verdict: GateVerdict,
  onFail: GateAction,
  summary: string,
  figures: Record<string, number | string | null>,
  reporters: readonly string[] = [],
): GateResult {
  return { gate, verdict, onFail, summary, figures, reporters: [...reporters].sort() };
}
