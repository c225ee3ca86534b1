import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { basisPointsToPercent } from '@switchyard/client-sdk/core';
import { SwitchyardException } from '../common/errors/switchyard.exception.js';
import { CLOCK, type Clock } from '../common/scheduling/clock.js';
import { startPeriodicTask } from '../common/scheduling/periodic-task.js';
import { HistoryAction } from '../history/history-action.js';
import { RollbackService } from '../rollback/rollback.service.js';
import { SlicesRepository } from '../slices/slices.repository.js';
import { SlicesService } from '../slices/slices.service.js';
import { TrafficIngestService } from '../traffic/traffic-ingest.service.js';
import type { GateResult, StepInput, StepVerdict } from './evaluation/contract.js';
import { planActor } from './plan-actor.js';
import { type EvidenceInterval, PlanEvidence } from './plan-evidence.js';
import { isApproved, type PlanRecord } from './plan-record.js';
import { PlansRepository } from './plans.repository.js';
import { PlansService } from './plans.service.js';

/** The pure evaluation (src/plans/evaluation), injected so the module names the one implementation. */
export const STEP_EVALUATOR = Symbol('STEP_EVALUATOR');
export type StepEvaluator = (input: StepInput) => StepVerdict;

/** How often each instance looks at every RUNNING plan (besides the looks a flush of its evidence brings). */
export const LOOK_EVERY_MS = 5_000;
/** How stale the list of RUNNING plans may be when a flush asks which of its slices to look at. */
const RUNNING_LIST_MAX_AGE_MS = 1_000;

/** What one look did (tests and logs). */
export type LookOutcome = 'NOT_RUNNING' | 'HELD' | 'BLOCKED' | 'ADVANCED' | 'COMPLETED' | 'ROLLED_BACK' | 'PAUSED' | 'ABORTED' | 'LOST_RACE';

/**
 * Carries out RUNNING plans, on every instance: every LOOK_EVERY_MS (the injected clock's timers)
 * it looks at each RUNNING plan: reads the step's evidence (no lock held), asks the evaluation,
 * and acts. It also looks at a RUNNING plan as soon as this instance has written new outcomes of
 * its slice (TrafficIngestService.onOutcomesWritten, every SWITCHYARD_OUTCOMES_FLUSH_MS while they
 * come in): a regression is judged on the evidence the moment it is stored, not up to 5 s later
 * (npm run bench:guardrails). One look per plan at a time on an instance; a flush during a look
 * brings one more look after it.
 *
 * Exactly one instance acts on a plan: every action is a plan change (PlansService.changePlan)
 * that names the plan version the look was made at. Changes hold the history append lock (a
 * PostgreSQL advisory lock, on PGlite too) and lock the plan row; an instance that looked at the
 * same version and comes second finds a newer version, drops its look (LOST_RACE) and writes
 * nothing. Holding writes no history row: the look (verdict, what it waits for, the gates'
 * figures) is recorded on the plan row, and only while the plan is still at the version looked
 * at. All state is in the database; a restarted instance picks up where any instance left off.
 */
@Injectable()
export class PlanRunner implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(PlanRunner.name);
  private stopTimer: (() => void) | null = null;
  private running: Promise<LookOutcome[]> | null = null;
  private stopListening: (() => void) | null = null;
  /** The slices of RUNNING plans as last read, and when (clock ms): which flushed slices to look at. */
  private runningSlices: { keys: ReadonlySet<string>; at: number } = { keys: new Set(), at: -Infinity };
  private refreshing: Promise<ReadonlySet<string>> | null = null;
  /** Per slice: the look in flight, and whether a flush asked for another one meanwhile. */
  private readonly soon = new Map<string, { again: boolean }>();

  constructor(
    private readonly plans: PlansRepository,
    private readonly plansService: PlansService,
    private readonly slices: SlicesRepository,
    private readonly slicesService: SlicesService,
    private readonly rollbacks: RollbackService,
    private readonly evidence: PlanEvidence,
    private readonly ingest: TrafficIngestService,
    @Inject(STEP_EVALUATOR) private readonly evaluate: StepEvaluator,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.stopTimer = startPeriodicTask(() => this.tick(), {
      firstAfterMs: LOOK_EVERY_MS,
      everyMs: LOOK_EVERY_MS,
      clock: this.clock,
      onError: (error) => this.logger.warn({ msg: 'plan look failed; tried again at the next tick', error: String((error as Error)?.message ?? error) }),
    });
    this.stopListening = this.ingest.onOutcomesWritten((keys) => void this.evidenceWritten(keys));
  }

  /** New outcomes of these slices were stored: look at those under a RUNNING plan now. */
  private async evidenceWritten(keys: ReadonlySet<string>): Promise<void> {
    try {
      const running = await this.runningNow();
      for (const key of keys) if (running.has(key)) this.lookSoon(key);
    } catch (error) {
      this.logger.warn({ msg: 'plan look after a flush failed; the timer looks again', error: String((error as Error)?.message ?? error) });
    }
  }

  /** The RUNNING plans' slices, read again when older than RUNNING_LIST_MAX_AGE_MS (one read at a time). */
  private runningNow(): Promise<ReadonlySet<string>> {
    if (this.clock.now().getTime() - this.runningSlices.at < RUNNING_LIST_MAX_AGE_MS) return Promise.resolve(this.runningSlices.keys);
    this.refreshing ??= this.plans
      .running()
      .then((keys) => {
        this.runningSlices = { keys: new Set(keys), at: this.clock.now().getTime() };
        return this.runningSlices.keys;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  private lookSoon(sliceKey: string): void {
    const inFlight = this.soon.get(sliceKey);
    if (inFlight !== undefined) {
      inFlight.again = true;
      return;
    }
    const state = { again: false };
    this.soon.set(sliceKey, state);
    void (async () => {
      try {
        do {
          state.again = false;
          if (this.stopListening === null) return;
          try {
            await this.look(sliceKey);
          } catch (error) {
            this.logger.warn({ msg: 'plan look failed', sliceKey, error: String((error as Error)?.message ?? error) });
          }
        } while (state.again);
      } finally {
        this.soon.delete(sliceKey);
      }
    })();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopLooking();
    await this.running?.catch(() => undefined);
    while (this.soon.size > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  /** No more looks by the timer or after flushes (a look in flight finishes): tests then look by hand (`tick`, `look`). */
  stopLooking(): void {
    this.stopTimer?.();
    this.stopTimer = null;
    this.stopListening?.();
    this.stopListening = null;
  }

  /** One look at every RUNNING plan; a tick asked for while one runs joins it. */
  tick(): Promise<LookOutcome[]> {
    if (this.running !== null) return this.running;
    const run = (async () => {
      const outcomes: LookOutcome[] = [];
      for (const sliceKey of await this.plans.running()) {
        try {
          outcomes.push(await this.look(sliceKey));
        } catch (error) {
          // One plan's failure (the database, a bug) does not keep the others waiting.
          this.logger.warn({ msg: 'plan look failed', sliceKey, error: String((error as Error)?.message ?? error) });
        }
      }
      return outcomes;
    })().finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  /** Looks at the slice's plan once and acts on what the evaluation says. */
  async look(sliceKey: string): Promise<LookOutcome> {
    const plan = await this.plans.findBySlice(sliceKey);
    if (plan === null || plan.phase !== 'RUNNING') return 'NOT_RUNNING';
    const slice = await this.slices.find(sliceKey);
    if (slice !== null && slice.state !== 'ACTIVE') return this.sliceLeft(plan, slice.state);
    const now = this.clock.now();
    const { input, interval } = await this.evidence.gather(plan, now.getTime());
    const verdict = this.evaluate(input);
    const lookAt = now.toISOString();
    switch (verdict.kind) {
      case 'HOLD':
        await this.plans.recordLook(plan.id, plan.version, { at: lookAt, verdict: 'HOLD', waitingFor: verdict.waitingFor, gates: verdict.gates });
        return 'HELD';
      case 'FAIL':
        return this.fail(plan, verdict, input, interval);
      case 'ADVANCE': {
        // The last step is a step like the others: held for its duration and evidence, its gates
        // watched; when it passes, the plan completes (the slice stays where the step put it).
        if (plan.currentStep === plan.steps.length - 1) return this.complete(plan, verdict.gates, input, interval);
        const next = plan.currentStep + 1;
        if (plan.steps[next]!.requiresApproval && !isApproved(plan, next)) {
          const waitingFor = [`approval of step ${next + 1} by someone other than ${plan.author}`];
          await this.plans.recordLook(plan.id, plan.version, { at: lookAt, verdict: 'HOLD', waitingFor, gates: verdict.gates });
          return 'HELD';
        }
        return this.advance(plan, verdict.gates, input, interval, lookAt);
      }
    }
  }

  private async advance(plan: PlanRecord, gates: readonly GateResult[], input: StepInput, interval: EvidenceInterval, lookAt: string): Promise<LookOutcome> {
    const from = plan.steps[plan.currentStep]!;
    const nextIndex = plan.currentStep + 1;
    const to = plan.steps[nextIndex]!;
    const reason =
      `plan: step ${plan.currentStep + 1} -> ${nextIndex + 1} of ${plan.steps.length} (${basisPointsToPercent(from.basisPoints)} % -> ${basisPointsToPercent(to.basisPoints)} %)` +
      ` after ${formatDuration(input.elapsedMs)}: ${gates.map((g) => `${g.gate} ${g.verdict}`).join(', ') || 'no gates'}`;
    const actor = planActor(plan);
    try {
      await this.plansService.changePlan('planAdvance', { sliceKey: plan.sliceKey, expectedVersion: plan.version, reason }, actor, async (tx, current, changeNow) => {
        const rollout = await this.slicesService.setRolloutWithin(tx, changeNow, { key: plan.sliceKey, percent: basisPointsToPercent(to.basisPoints), reason }, actor);
        return {
          next: { ...current, currentStep: nextIndex, stepStartedAt: this.clock.now().toISOString(), phase: 'RUNNING' },
          action: HistoryAction.PLAN_STEP_ADVANCED,
          sliceRows: rollout.history,
          evidence: evidenceOf('ADVANCE', input, interval, gates),
        };
      });
      return 'ADVANCED';
    } catch (error) {
      if (lostRace(error)) return 'LOST_RACE';
      const blocked = blockedBy(error);
      if (blocked === null) throw error;
      // A freeze window (or another exposure guard) refused the step: hold, and say until when.
      await this.plans.recordLook(plan.id, plan.version, { at: lookAt, verdict: 'BLOCKED', waitingFor: [blocked], gates });
      return 'BLOCKED';
    }
  }

  /** The last step passed: the plan COMPLETED, one PLAN_COMPLETED row with the evidence; the slice is not changed. */
  private async complete(plan: PlanRecord, gates: readonly GateResult[], input: StepInput, interval: EvidenceInterval): Promise<LookOutcome> {
    const step = plan.steps[plan.currentStep]!;
    const reason =
      `plan: step ${plan.currentStep + 1} of ${plan.steps.length} (${basisPointsToPercent(step.basisPoints)} %) held` +
      ` for ${formatDuration(input.elapsedMs)}: ${gates.map((g) => `${g.gate} ${g.verdict}`).join(', ') || 'no gates'}; plan completed`;
    try {
      await this.plansService.changePlan('planComplete', { sliceKey: plan.sliceKey, expectedVersion: plan.version, reason }, planActor(plan), (_tx, current) => ({
        next: { ...current, phase: 'COMPLETED' },
        action: HistoryAction.PLAN_COMPLETED,
        evidence: evidenceOf('ADVANCE', input, interval, gates),
      }));
      return 'COMPLETED';
    } catch (error) {
      if (lostRace(error)) return 'LOST_RACE';
      throw error;
    }
  }

  private async fail(plan: PlanRecord, verdict: Extract<StepVerdict, { kind: 'FAIL' }>, input: StepInput, interval: EvidenceInterval): Promise<LookOutcome> {
    const { failed } = verdict;
    const step = plan.steps[plan.currentStep]!;
    const reason =
      `plan: gate ${failed.gate} failed at step ${plan.currentStep + 1} of ${plan.steps.length} (${basisPointsToPercent(step.basisPoints)} %): ${failed.summary}` +
      (failed.reporters.length > 0 ? `; reporters: ${failed.reporters.join(', ')}` : '') +
      ` (${interval.from} to ${interval.until})`;
    const actor = planActor(plan);
    const rollback = verdict.action === 'ROLLBACK';
    try {
      await this.plansService.changePlan(
        rollback ? 'planRollback' : 'planPause',
        { sliceKey: plan.sliceKey, expectedVersion: plan.version, reason },
        actor,
        async (tx, current, changeNow) => {
          const rows = rollback ? (await this.rollbacks.rollbackWithin(tx, changeNow, plan.sliceKey)).history : [];
          return {
            next: { ...current, phase: rollback ? 'ROLLED_BACK' : 'PAUSED' },
            action: rollback ? HistoryAction.PLAN_ROLLED_BACK : HistoryAction.PLAN_PAUSED,
            sliceRows: rows,
            evidence: { ...evidenceOf('FAIL', input, interval, verdict.gates), failed },
          };
        },
      );
      return rollback ? 'ROLLED_BACK' : 'PAUSED';
    } catch (error) {
      if (lostRace(error)) return 'LOST_RACE';
      throw error;
    }
  }

  /** The slice was rolled back by hand (the plan pauses: resume the slice, then the plan) or archived (the plan ends). */
  private async sliceLeft(plan: PlanRecord, state: string): Promise<LookOutcome> {
    const archived = state === 'ARCHIVED';
    const reason = archived ? 'plan: the slice was archived; the plan ends' : 'plan: the slice was rolled back; the plan pauses (resume the slice, then the plan)';
    try {
      await this.plansService.changePlan(
        archived ? 'planAbort' : 'planPause',
        { sliceKey: plan.sliceKey, expectedVersion: plan.version, reason },
        planActor(plan),
        (_tx, current) => ({
          next: { ...current, phase: archived ? 'ABORTED' : 'PAUSED' },
          action: archived ? HistoryAction.PLAN_ABORTED : HistoryAction.PLAN_PAUSED,
          evidence: { sliceState: state },
        }),
      );
      return archived ? 'ABORTED' : 'PAUSED';
    } catch (error) {
      if (lostRace(error)) return 'LOST_RACE';
      throw error;
    }
  }
}

/** What an automatic action's history row carries: the figures, the interval, the gates, per reporter. */
function evidenceOf(verdict: string, input: StepInput, interval: EvidenceInterval, gates: readonly GateResult[]) {
  return {
    verdict,
    interval,
    elapsedMs: input.elapsedMs,
    step: input.step,
    gates,
    followers: input.followers,
    reporters: input.evidence.map((e) => ({
      reporter: e.reporter,
      ...(e.app === undefined ? {} : { app: e.app }),
      newCalls: e.next.calls,
      newFailures: e.next.failures,
      legacyCalls: e.legacy.calls,
      legacyFailures: e.legacy.failures,
      compared: e.compared,
      mismatches: e.mismatches,
      decisions: e.decisions,
      newDecisions: e.newDecisions,
    })),
  };
}

/** Another instance acted on the plan (or a person changed it) since this look: nothing to do. */
function lostRace(error: unknown): boolean {
  return error instanceof SwitchyardException && (error.code === 'PLAN_VERSION_CONFLICT' || error.code === 'PLAN_WRONG_PHASE');
}

/**
 * What an exposure guard's refusal means for a plan: a freeze window (code FREEZE_WINDOW, built
 * apart: extensions { window, until, timeZone }) reads "freeze window until 28 Dec 00:00
 * Africa/Nairobi"; null for anything else.
 */
export function blockedBy(error: unknown): string | null {
  if (!(error instanceof SwitchyardException)) return null;
  if ((error.code as string) !== 'FREEZE_WINDOW') return null;
  const until = typeof error.details.until === 'string' ? error.details.until : null;
  const timeZone = typeof error.details.timeZone === 'string' ? error.details.timeZone : 'UTC';
  return until === null ? 'freeze window' : `freeze window until ${localTime(until, timeZone)} ${timeZone}`;
}

/** "28 Dec 00:00" in the zone (the instant itself when the zone is unknown). */
export function localTime(instant: string, timeZone: string): string {
  try {
    const parts = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(
      new Date(instant),
    );
    const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
    return `${part('day')} ${part('month')} ${part('hour')}:${part('minute')}`;
  } catch {
    return instant;
  }
}

export function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  if (minutes < 1_440) return `${Math.floor(minutes / 60)}h${minutes % 60 > 0 ? ` ${minutes % 60}m` : ''}`;
  return `${Math.floor(minutes / 1_440)}d${Math.floor((minutes % 1_440) / 60) > 0 ? ` ${Math.floor((minutes % 1_440) / 60)}h` : ''}`;
}
