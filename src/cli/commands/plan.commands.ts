import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ChangeFlags, expectedVersionOption, idempotencyKeyOption, optionalReasonOption, reasonOption, sendChange } from '../change-options.js';
import { CHANGE_TOKENS, type Intent, READ_TOKENS } from '../errors.js';
import { formatPercent, formatTime, keyValues } from '../output.js';
import { parsePercent, parsePositiveInt } from '../parsers.js';
import type { OpenSession } from '../session.js';

/** What the CLI reads of a plan (GraphQL Plan, docs/plans.md). */
export const PLAN_FIELDS = `sliceKey phase author currentStep stepStartedAt version
  steps { number percent minDuration minNewCalls minComparisons requiresApproval approvedBy }
  status { phase summary waitingFor lastVerdict lookedAt nextStepEarliestAt gates { gate verdict onFail summary reporters } }`;

export interface PlanView {
  sliceKey: string;
  phase: string;
  author: string;
  currentStep: number;
  stepStartedAt: string | null;
  version: number;
  steps: { number: number; percent: number; minDuration: string; minNewCalls: number; minComparisons: number; requiresApproval: boolean; approvedBy: string | null }[];
  status: {
    phase: string;
    summary: string;
    waitingFor: string[];
    lastVerdict: string | null;
    lookedAt: string | null;
    nextStepEarliestAt: string | null;
    gates: { gate: string; verdict: string; onFail: string; summary: string; reporters: string[] }[];
  };
}

export interface StepArgument {
  percent: number;
  minDuration: string;
  minNewCalls: number;
  minComparisons: number;
  requiresApproval: boolean;
}

/**
 * `--step 5@1d,calls=5000,comparisons=1000,approval`: the percentage, its least duration, then
 * optional evidence and approval. Values are judged by the service (plan-input.ts); this only
 * refuses what cannot form a step.
 */
export function collectStep(value: string, previous: StepArgument[] | undefined): StepArgument[] {
  const [head, ...options] = value.split(',').map((s) => s.trim());
  const match = /^([^@]+)@(\S+)$/.exec(head ?? '');
  if (match === null) throw new InvalidArgumentError('expected <percent>@<duration>[,calls=N][,comparisons=N][,approval], e.g. 5@1d,calls=5000');
  const step: StepArgument = { percent: parsePercent(match[1]!), minDuration: match[2]!, minNewCalls: 0, minComparisons: 0, requiresApproval: false };
  for (const option of options) {
    const count = /^(calls|comparisons)=(\d{1,10})$/.exec(option);
    if (count !== null) {
      if (count[1] === 'calls') step.minNewCalls = Number(count[2]);
      else step.minComparisons = Number(count[2]);
    } else if (option === 'approval') step.requiresApproval = true;
    else throw new InvalidArgumentError(`unknown step option "${option}": calls=N, comparisons=N or approval`);
  }
  return [...(previous ?? []), step];
}

/** `p95,2,800`: percentile, most NEW/LEGACY ratio, ceiling in ms. */
function parseLatency(value: string): { percentile: number; maxRatio: number; ceilingMs: number } {
  const match = /^p?(\d+),(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)(?:ms)?$/.exec(value.trim());
  if (match === null) throw new InvalidArgumentError('expected <percentile>,<max ratio>,<ceiling ms>, e.g. p95,2,800');
  return { percentile: Number(match[1]), maxRatio: Number(match[2]), ceilingMs: Number(match[3]) };
}

function parseAction(value: string): 'ROLLBACK' | 'PAUSE' {
  const v = value.trim().toUpperCase();
  if (v !== 'ROLLBACK' && v !== 'PAUSE') throw new InvalidArgumentError('expected rollback or pause');
  return v;
}

const CREATE = `mutation($sliceKey: String!, $steps: [PlanStepInput!]!, $gates: PlanGatesInput, $reason: String, $idempotencyKey: String) {
  createPlan(sliceKey: $sliceKey, steps: $steps, gates: $gates, reason: $reason, idempotencyKey: $idempotencyKey) { ${PLAN_FIELDS} } }`;
const call = (name: string, reasonType: string) => `mutation($sliceKey: String!, $reason: ${reasonType}, $expectedVersion: Int, $idempotencyKey: String) {
  ${name}(sliceKey: $sliceKey, reason: $reason, expectedVersion: $expectedVersion, idempotencyKey: $idempotencyKey) { ${PLAN_FIELDS} } }`;
const APPROVE = `mutation($sliceKey: String!, $step: Int!, $reason: String, $expectedVersion: Int, $idempotencyKey: String) {
  approvePlanStep(sliceKey: $sliceKey, step: $step, reason: $reason, expectedVersion: $expectedVersion, idempotencyKey: $idempotencyKey) { ${PLAN_FIELDS} } }`;
const READ = `query($sliceKey: String!) { plan(sliceKey: $sliceKey) { ${PLAN_FIELDS} } }`;

/** The plan at a glance: phase and step, what it waits for, each gate, the next step's time, the steps. */
export function renderPlan(p: PlanView): string {
  const s = p.status;
  const lines = [
    `${p.sliceKey}: ${s.summary} (version ${p.version}, by ${p.author})`,
    keyValues([
      ['waiting for', s.waitingFor.length > 0 ? s.waitingFor.join('; ') : '-'],
      ['next step at', s.nextStepEarliestAt === null ? '-' : `${formatTime(s.nextStepEarliestAt)} at the earliest`],
      ['last look', s.lookedAt === null ? '-' : `${formatTime(s.lookedAt)}: ${s.lastVerdict ?? '-'}`],
    ]),
  ];
  if (s.gates.length > 0)
    lines.push(
      'gates:',
      ...s.gates.map((g) => `  ${g.gate} ${g.verdict} (on fail: ${g.onFail.toLowerCase()}): ${g.summary}${g.reporters.length > 0 ? ` [${g.reporters.join(', ')}]` : ''}`),
    );
  lines.push(
    'steps:',
    ...p.steps.map(
      (st) =>
        `  ${st.number === p.currentStep ? '>' : ' '} ${st.number}. ${formatPercent(st.percent)} for ${st.minDuration}` +
        (st.minNewCalls > 0 ? `, ${st.minNewCalls} NEW calls` : '') +
        (st.minComparisons > 0 ? `, ${st.minComparisons} comparisons` : '') +
        (st.requiresApproval ? (st.approvedBy === null ? ', needs approval' : `, approved by ${st.approvedBy}`) : ''),
    ),
  );
  return lines.join('\n');
}

export function registerPlanCommands(program: Command, open: OpenSession): void {
  const plan = program.command('plan').description('cutover plans (docs/plans.md): steps the service carries out on evidence, with gates that hold, pause or roll back');

  plan
    .command('create')
    .description('a plan for a slice (PENDING until started): its steps in order, and its gates')
    .argument('<slice>', 'the slice key')
    .addOption(
      new Option('--step <step>', 'one step, in order: <percent>@<duration>[,calls=N][,comparisons=N][,approval], e.g. 5@1d,calls=5000 (repeat)')
        .argParser(collectStep)
        .makeOptionMandatory(),
    )
    .addOption(new Option('--failure-ceiling <percent>', "failure-rate gate: NEW's rate never above this, nor worse than LEGACY's").argParser(parsePercent))
    .addOption(new Option('--latency <p,ratio,ms>', 'latency gate: e.g. p95,2,800 (NEW at most twice LEGACY and never above 800 ms)').argParser(parseLatency))
    .addOption(
      new Option('--mismatch [percent]', "mismatch gate: the shadow comparison's mismatch rate at or under this (the slice's threshold when none is given)").argParser(
        parsePercent,
      ),
    )
    .addOption(new Option('--observed-share <points>', 'observed-share gate: the NEW share services report within this many points of the configured one').argParser(parsePercent))
    .addOption(new Option('--on-fail <action>', 'what a failing gate does: rollback (default) or pause').argParser(parseAction))
    .addOption(optionalReasonOption())
    .addOption(idempotencyKeyOption())
    .action(
      async (
        key: string,
        options: ChangeFlags & {
          step: StepArgument[];
          failureCeiling?: number;
          latency?: ReturnType<typeof parseLatency>;
          mismatch?: number | true;
          observedShare?: number;
          onFail?: 'ROLLBACK' | 'PAUSE';
        },
        command: Command,
      ) => {
        const onFail = options.onFail ?? 'ROLLBACK';
        const gates = {
          ...(options.failureCeiling !== undefined ? { failureRate: { ceilingPercent: options.failureCeiling, onFail } } : {}),
          ...(options.latency !== undefined ? { latency: { ...options.latency, onFail } } : {}),
          ...(options.mismatch !== undefined ? { mismatch: { thresholdPercent: options.mismatch === true ? null : options.mismatch, onFail } } : {}),
          ...(options.observedShare !== undefined ? { observedShare: { tolerancePercent: options.observedShare, onFail: options.onFail ?? 'PAUSE' } } : {}),
        };
        const session = open(command);
        const { data, idempotencyKey } = await sendChange<{ createPlan: PlanView }>(
          session,
          CREATE,
          { sliceKey: key, steps: options.step, gates },
          { action: 'create a plan', allowedTokens: CHANGE_TOKENS, sliceKey: key, describeField: (field) => describeStepField(field) },
          options,
        );
        session.out.result({ ...data.createPlan, idempotencyKey }, () => `${renderPlan(data.createPlan)}\nStart it: switchyard plan start ${key} --reason "..."`);
      },
    );

  const simple = (name: string, mutation: string, description: string, exposure: boolean) =>
    plan
      .command(name)
      .description(description)
      .argument('<slice>', 'the slice key')
      .addOption(exposure ? reasonOption() : optionalReasonOption())
      .addOption(expectedVersionOption())
      .addOption(idempotencyKeyOption())
      .action(async (key: string, options: ChangeFlags, command: Command) => {
        const session = open(command);
        const { data, idempotencyKey } = await sendChange<Record<string, PlanView>>(
          session,
          call(mutation, exposure ? 'String!' : 'String'),
          { sliceKey: key, expectedVersion: options.expectedVersion ?? null },
          { action: `${name} a plan`, allowedTokens: CHANGE_TOKENS, sliceKey: key },
          options,
        );
        const result = data[mutation]!;
        session.out.result({ ...result, idempotencyKey }, () => renderPlan(result));
      });
  simple('start', 'startPlan', "watch the slice, move it to the first step's percentage and let the service carry the plan out", true);
  simple('pause', 'pausePlan', 'stop the plan where it is (exposure may then be changed by hand)', false);
  simple('resume', 'resumePlan', "back to the step it paused at: the slice to that step's percentage, the step's time and evidence from now", true);
  simple('abort', 'abortPlan', 'end the plan for good; the slice stays where it is', false);

  plan
    .command('approve')
    .description("approve a step that requires it (a release manager or admin other than the plan's author)")
    .argument('<slice>', 'the slice key')
    .argument('<step>', 'the step number, from 1 (as `plan status` shows it)', parsePositiveInt)
    .addOption(optionalReasonOption())
    .addOption(expectedVersionOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string, step: number, options: ChangeFlags, command: Command) => {
      const session = open(command);
      const { data, idempotencyKey } = await sendChange<{ approvePlanStep: PlanView }>(
        session,
        APPROVE,
        { sliceKey: key, step, expectedVersion: options.expectedVersion ?? null },
        { action: 'approve a plan step', allowedTokens: CHANGE_TOKENS, sliceKey: key },
        options,
      );
      session.out.result({ ...data.approvePlanStep, idempotencyKey }, () => renderPlan(data.approvePlanStep));
    });

  plan
    .command('status')
    .description('where the plan is, what it waits for, each gate’s figures and the next step’s time')
    .argument('<slice>', 'the slice key')
    .action(async (key: string, _options: unknown, command: Command) => {
      const { client, out } = open(command);
      const intent: Intent = { action: 'read slices', allowedTokens: READ_TOKENS, sliceKey: key };
      const { plan: view } = await client.request<{ plan: PlanView }>(READ, { sliceKey: key }, intent);
      out.result(view, () => renderPlan(view));
    });
}

/** `steps[1].minDuration` -> "the 2nd --step's duration". */
function describeStepField(field: string): string | undefined {
  const match = /^steps\[(\d+)\](?:\.(\w+))?$/.exec(field);
  if (match === null) return undefined;
  const n = Number(match[1]) + 1;
  const what = { percent: 'percentage', minDuration: 'duration', minNewCalls: 'calls=', minComparisons: 'comparisons=' }[match[2] ?? ''] ?? 'step';
  return `--step number ${n} (its ${what})`;
}
