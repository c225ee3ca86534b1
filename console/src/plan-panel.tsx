import { useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { ReasonDialog } from './dialogs.js';
import { ErrorLine } from './error-line.js';
import { conflictMessage } from './field-errors.js';
import { percent, when } from './format.js';
import { approveStep, createPlan, type GateAction, type GatesInput, loadPlan, OPEN_PHASES, type Plan, type PlanCall, planCall, type StepInput } from './plans-api.js';
import { may, type Session } from './session.js';
import type { HistoryRow } from './slices-api.js';
import { usePolled } from './use-polled.js';

/**
 * No stream carries a plan's status (the runner's looks write no history and move no revision):
 * the panel asks again this often while it is open, and at every change the live feed announces.
 */
const POLL_MS = 5_000;

type Action = { kind: 'call'; call: PlanCall } | { kind: 'approve'; step: number };

const CALLS: Record<PlanCall, { label: string; title: string; summary: (p: Plan) => string; danger?: boolean }> = {
  startPlan: {
    label: 'Start…',
    title: 'Start the plan',
    summary: (p) => `The slice moves to ${percent(p.steps[0]?.percent ?? 0)} on NEW, is watched, and the plan advances by itself on evidence.`,
  },
  pausePlan: { label: 'Pause…', title: 'Pause the plan', summary: () => 'The runner stops acting; the slice stays where it is and people may change it.' },
  resumePlan: {
    label: 'Resume…',
    title: 'Resume the plan',
    summary: (p) => `The slice returns to step ${p.currentStep} (${percent(p.steps[p.currentStep - 1]?.percent ?? 0)}), whose duration and evidence count from now.`,
  },
  abortPlan: { label: 'Abort…', title: 'Abort the plan', summary: () => 'The plan ends for good; the slice stays where it is.', danger: true },
};

/** What each phase allows (docs/plans.md, "Lifecycle and API"). */
function callsFor(plan: Plan): PlanCall[] {
  switch (plan.phase) {
    case 'PENDING':
      return ['startPlan', 'abortPlan'];
    case 'RUNNING':
      return ['pausePlan', 'abortPlan'];
    case 'PAUSED':
      return ['resumePlan', 'abortPlan'];
    default:
      return [];
  }
}

/** Steps another person may approve now: needing it, not approved, not reached yet (step 1 while the plan is pending). */
function approvable(plan: Plan, session: Session): number[] {
  if (!may.change(session) || session.name === plan.author || !OPEN_PHASES.includes(plan.phase)) return [];
  return plan.steps
    .filter((s) => s.requiresApproval && s.approvedBy === null && (s.number > plan.currentStep || (plan.phase === 'PENDING' && s.number === plan.currentStep)))
    .map((s) => s.number);
}

function problem(e: unknown): string {
  if (!(e instanceof ApiError)) return String(e);
  return conflictMessage(e) ?? `${e.message} (${e.errorCode ?? e.code})`;
}

/**
 * A slice's plan (docs/plans.md): phase and current step at a glance, what it waits for, each
 * gate's figures and verdict, the next step's time, the timeline of steps, the rows of its
 * automatic actions, and the buttons the person's role and the plan's phase allow. A release
 * manager or admin creates one here when the slice has none open.
 */
export function PlanPanel({
  session,
  sliceKey,
  revision,
  sliceActive,
  onPhase,
}: {
  session: Session;
  sliceKey: string;
  revision: number;
  sliceActive: boolean;
  /** Told the plan's phase whenever it is read (null: no plan), so the page can hide what a running plan refuses. */
  onPhase?: (phase: string | null) => void;
}) {
  const [action, setAction] = useState<Action | null>(null);
  const [creating, setCreating] = useState(false);
  const { data, error, reload } = usePolled<{ plan: Plan | null; history: HistoryRow[] }>(() => loadPlan(sliceKey), [sliceKey, revision], POLL_MS, {
    describe: problem,
    onLoaded: (loaded) => onPhase?.(loaded.plan?.phase ?? null),
  });

  if (data === null) return <section class="plan panel">{error === null ? <p class="loading">Loading the plan…</p> : <ErrorLine message={error} />}</section>;
  const { plan, history } = data;
  const open = plan !== null && OPEN_PHASES.includes(plan.phase);
  const canCreate = may.change(session) && !open && sliceActive;
  return (
    <section class="plan panel" aria-labelledby="plan-title">
      <h2 id="plan-title">
        Plan{' '}
        {plan !== null && (
          <span class={`phase phase-${plan.phase.toLowerCase()}`} data-phase={plan.phase}>
            {plan.phase.replace('_', ' ')}
          </span>
        )}
      </h2>
      <ErrorLine message={error} />
      {plan === null ? <p class="muted">No plan: the rollout moves only by hand.</p> : <PlanView plan={plan} />}
      {plan !== null && may.change(session) && (
        <div class="actions plan-actions">
          {callsFor(plan).map((call) => (
            <button type="button" class={CALLS[call].danger === true ? 'danger' : 'primary'} onClick={() => setAction({ kind: 'call', call })}>
              {CALLS[call].label}
            </button>
          ))}
          {approvable(plan, session).map((step) => (
            <button type="button" onClick={() => setAction({ kind: 'approve', step })}>
              Approve step {step}…
            </button>
          ))}
        </div>
      )}
      {plan !== null && may.change(session) && session.name === plan.author && plan.steps.some((s) => s.requiresApproval && s.approvedBy === null) && open && (
        <p class="muted">Steps that need an approval are approved by someone other than you ({plan.author}).</p>
      )}
      {canCreate && !creating && (
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          New plan…
        </button>
      )}
      {canCreate && creating && <PlanForm sliceKey={sliceKey} onDone={() => (setCreating(false), reload())} onCancel={() => setCreating(false)} />}
      {plan !== null && (
        <>
          <h3>Automatic actions and changes of the plan</h3>
          <PlanHistory rows={history} />
        </>
      )}
      {plan !== null && action?.kind === 'call' && (
        <ReasonDialog
          title={`${CALLS[action.call].title}: ${plan.sliceKey}`}
          summary={CALLS[action.call].summary(plan)}
          confirmLabel={CALLS[action.call].label.replace('…', '')}
          danger={CALLS[action.call].danger}
          onConfirm={async (reason) => (await planCall(action.call, plan.sliceKey, reason, plan.version), reload())}
          onClose={() => setAction(null)}
        />
      )}
      {plan !== null && action?.kind === 'approve' && (
        <ReasonDialog
          title={`Approve step ${action.step}: ${plan.sliceKey}`}
          summary={`The plan may move the slice to ${percent(plan.steps[action.step - 1]?.percent ?? 0)} once the step before has its time and evidence. Recorded with your name.`}
          confirmLabel="Approve"
          onConfirm={async (reason) => (await approveStep(plan.sliceKey, action.step, reason, plan.version), reload())}
          onClose={() => setAction(null)}
        />
      )}
    </section>
  );
}

function PlanView({ plan }: { plan: Plan }) {
  const s = plan.status;
  return (
    <>
      <p class="plan-summary">
        <strong>{s.summary}</strong>{' '}
        <span class="muted">
          · by {plan.author} · version {plan.version}
        </span>
      </p>
      {s.waitingFor.length > 0 && (
        <div class="waiting-for">
          Waiting for:
          <ul>
            {s.waitingFor.map((w) => (
              <li>{w}</li>
            ))}
          </ul>
        </div>
      )}
      <dl class="facts">
        <dt>Step started</dt>
        <dd>{plan.stepStartedAt === null ? '—' : when(plan.stepStartedAt)}</dd>
        <dt>Next step</dt>
        <dd class="next-step">{s.nextStepEarliestAt === null ? '—' : `${when(s.nextStepEarliestAt)} at the earliest`}</dd>
        <dt>Last look</dt>
        <dd class="last-look">{s.lookedAt === null ? 'not looked at yet' : `${when(s.lookedAt)}: ${s.lastVerdict ?? '—'}`}</dd>
      </dl>
      <ol class="plan-steps" aria-label="Steps">
        {plan.steps.map((step) => {
          const where = step.number < plan.currentStep ? 'done' : step.number === plan.currentStep ? 'current' : 'upcoming';
          return (
            <li class={`plan-step step-${where}`} data-step={step.number} aria-current={where === 'current' ? 'step' : undefined}>
              <span class="step-percent">{percent(step.percent)}</span>
              <span class="step-rule">
                for {step.minDuration}
                {step.minNewCalls > 0 && `, ${step.minNewCalls.toLocaleString('en')} NEW calls`}
                {step.minComparisons > 0 && `, ${step.minComparisons.toLocaleString('en')} comparisons`}
              </span>
              {step.requiresApproval && (
                <span class={`approval ${step.approvedBy === null ? 'approval-needed' : 'approval-given'}`}>
                  {step.approvedBy === null ? 'approval needed' : `approved by ${step.approvedBy}`}
                </span>
              )}
            </li>
          );
        })}
      </ol>
      <GateTable plan={plan} />
    </>
  );
}

/** The gates the plan holds, each with the runner's last verdict and figures. */
function GateTable({ plan }: { plan: Plan }) {
  const g = plan.gates;
  const configured: { gate: string; rule: string; onFail: GateAction | null }[] = [];
  if (g.failureRateCeilingPercent !== null)
    configured.push({ gate: 'FAILURE_RATE', rule: `NEW not worse than LEGACY, at most ${g.failureRateCeilingPercent} %`, onFail: g.failureRateOnFail });
  if (g.latencyPercentile !== null) {
    configured.push({ gate: 'LATENCY', rule: `p${g.latencyPercentile} at most ${g.latencyMaxRatio}x LEGACY's and ${g.latencyCeilingMs} ms`, onFail: g.latencyOnFail });
  }
  if (g.mismatchThresholdPercent !== null) configured.push({ gate: 'MISMATCH', rule: `mismatch rate at most ${g.mismatchThresholdPercent} %`, onFail: g.mismatchOnFail });
  if (g.observedShareTolerancePercent !== null) {
    configured.push({ gate: 'OBSERVED_SHARE', rule: `NEW share seen within ${g.observedShareTolerancePercent} points of the step's`, onFail: g.observedShareOnFail });
  }
  if (configured.length === 0) return <p class="muted">No gates: the plan advances on time and evidence alone.</p>;
  return (
    <table class="plan-gates">
      <thead>
        <tr>
          <th>Gate</th>
          <th>Rule</th>
          <th>On fail</th>
          <th>Verdict</th>
          <th>Figures</th>
        </tr>
      </thead>
      <tbody>
        {configured.map((c) => {
          const status = plan.status.gates.find((s) => s.gate === c.gate);
          return (
            <tr data-gate={c.gate} data-verdict={status?.verdict ?? 'NOT_LOOKED'}>
              <td>{c.gate}</td>
              <td>{c.rule}</td>
              <td>{c.onFail === 'PAUSE' ? 'pause' : 'roll back'}</td>
              <td>
                <span class={`verdict verdict-${(status?.verdict ?? 'none').toLowerCase()}`}>{status === undefined ? 'not looked at' : status.verdict.replaceAll('_', ' ')}</span>
              </td>
              <td>
                {status === undefined ? (
                  '—'
                ) : (
                  <>
                    <span class="gate-summary">{status.summary}</span>
                    {status.reporters.length > 0 && <div class="warn">Failing on their own figures: {status.reporters.join(', ')}</div>}
                    <details>
                      <summary>figures</summary>
                      <pre class="figures">{JSON.stringify(status.figures, null, 2)}</pre>
                    </details>
                  </>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The plan's history rows, newest first: the automatic ones (actor plan:<slice>) with their evidence. */
function PlanHistory({ rows }: { rows: readonly HistoryRow[] }) {
  if (rows.length === 0) return <p class="muted">No history.</p>;
  return (
    <ol class="history plan-history">
      {rows.map((row) => {
        const evidence = (row.after as { evidence?: unknown } | null)?.evidence;
        return (
          <li key={row.position} data-position={row.position} data-action={row.action}>
            <div class="history-head">
              <strong>{row.action}</strong> by <span class="actor">{row.actor}</span> · {when(row.recordedAt)} · #{row.position}
            </div>
            {row.reason !== null && row.reason !== '' && <div class="reason">“{row.reason}”</div>}
            {evidence !== undefined && (
              <details>
                <summary>evidence</summary>
                <pre class="figures">{JSON.stringify(evidence, null, 2)}</pre>
              </details>
            )}
          </li>
        );
      })}
    </ol>
  );
}

interface StepRow {
  percent: string;
  minDuration: string;
  minNewCalls: string;
  minComparisons: string;
  requiresApproval: boolean;
}

const FIRST_STEPS: StepRow[] = [
  { percent: '5', minDuration: '1d', minNewCalls: '1000', minComparisons: '0', requiresApproval: false },
  { percent: '50', minDuration: '6h', minNewCalls: '5000', minComparisons: '0', requiresApproval: false },
  { percent: '100', minDuration: '30m', minNewCalls: '0', minComparisons: '0', requiresApproval: false },
];

/** Every refusal the service names, by field (INVALID_INPUT carries them all in extensions.violations). */
function violations(e: unknown): Map<string, string> {
  const found = new Map<string, string>();
  if (!(e instanceof ApiError)) return found;
  const list = e.details.violations;
  if (Array.isArray(list)) {
    for (const v of list as { field?: unknown; message?: unknown }[]) {
      if (typeof v.field === 'string' && typeof v.message === 'string' && !found.has(v.field)) found.set(v.field, v.message);
    }
  } else if (e.field !== null) {
    found.set(e.field, e.message);
  }
  return found;
}

/** A plan's steps and gates, sent as typed: the service judges them, and its refusals show at their fields. */
function PlanForm({ sliceKey, onDone, onCancel }: { sliceKey: string; onDone: () => void; onCancel: () => void }) {
  const [steps, setSteps] = useState<StepRow[]>(FIRST_STEPS.map((s) => ({ ...s })));
  const [failure, setFailure] = useState({ on: true, ceilingPercent: '2', onFail: 'ROLLBACK' as GateAction });
  const [latency, setLatency] = useState({ on: false, percentile: '95', maxRatio: '2', ceilingMs: '800', onFail: 'ROLLBACK' as GateAction });
  const [mismatch, setMismatch] = useState({ on: false, thresholdPercent: '', onFail: 'ROLLBACK' as GateAction });
  const [observed, setObserved] = useState({ on: false, tolerancePercent: '2', onFail: 'PAUSE' as GateAction });
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const edit = (i: number, patch: Partial<StepRow>) => setSteps(steps.map((s, j) => (j === i ? { ...s, ...patch } : s)));
  const submit = async (event: Event) => {
    event.preventDefault();
    // A box left empty or not a number is said at its field here: JSON has no NaN to send.
    const local = new Map<string, string>();
    const num = (field: string, text: string): number => {
      const value = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(value)) local.set(field, 'a number');
      return value;
    };
    const sent: StepInput[] = steps.map((s, i) => ({
      percent: num(`steps[${i}].percent`, s.percent),
      minDuration: s.minDuration,
      minNewCalls: num(`steps[${i}].minNewCalls`, s.minNewCalls),
      minComparisons: num(`steps[${i}].minComparisons`, s.minComparisons),
      requiresApproval: s.requiresApproval,
    }));
    const gates: GatesInput = {};
    if (failure.on) gates.failureRate = { ceilingPercent: num('gates.failureRate.ceilingPercent', failure.ceilingPercent), onFail: failure.onFail };
    if (latency.on) {
      gates.latency = {
        percentile: num('gates.latency.percentile', latency.percentile),
        maxRatio: num('gates.latency.maxRatio', latency.maxRatio),
        ceilingMs: num('gates.latency.ceilingMs', latency.ceilingMs),
        onFail: latency.onFail,
      };
    }
    if (mismatch.on) {
      gates.mismatch = {
        ...(mismatch.thresholdPercent.trim() === '' ? {} : { thresholdPercent: num('gates.mismatch.thresholdPercent', mismatch.thresholdPercent) }),
        onFail: mismatch.onFail,
      };
    }
    if (observed.on) gates.observedShare = { tolerancePercent: num('gates.observedShare.tolerancePercent', observed.tolerancePercent), onFail: observed.onFail };
    setGeneral(null);
    setErrors(local);
    if (local.size > 0) return;
    setBusy(true);
    try {
      await createPlan(sliceKey, sent, gates, reason.trim());
      onDone();
    } catch (e) {
      const found = violations(e);
      setErrors(found);
      const known = [...found.keys()].some((f) => f === 'steps' || f === 'reason' || f.startsWith('steps[') || f.startsWith('gates.'));
      if (!known) setGeneral(problem(e));
    } finally {
      setBusy(false);
    }
  };
  const at = (field: string) => {
    const message = errors.get(field);
    return message === undefined ? null : (
      <span class="field-error" role="alert" data-field={field}>
        {message}
      </span>
    );
  };
  const onFail = (value: GateAction, set: (a: GateAction) => void, label: string) => (
    <label class="inline">
      {label}
      <select value={value} onChange={(e) => set(e.currentTarget.value as GateAction)}>
        <option value="ROLLBACK">roll back</option>
        <option value="PAUSE">pause</option>
      </select>
    </label>
  );
  return (
    <form class="plan-form" onSubmit={(e) => void submit(e)} noValidate>
      <h3>New plan for {sliceKey}</h3>
      <fieldset>
        <legend>Steps, in order (percentages rising)</legend>
        {at('steps')}
        {steps.map((s, i) => (
          <div class="plan-step-input" data-step-input={i}>
            <label>
              Step {i + 1} percent
              <input inputMode="decimal" value={s.percent} onInput={(e) => edit(i, { percent: e.currentTarget.value })} />
              {at(`steps[${i}].percent`)}
            </label>
            <label>
              Step {i + 1} at least
              <input value={s.minDuration} placeholder="30m, 6h, 1d" onInput={(e) => edit(i, { minDuration: e.currentTarget.value })} />
              {at(`steps[${i}].minDuration`)}
            </label>
            <label>
              Step {i + 1} NEW calls
              <input inputMode="numeric" value={s.minNewCalls} onInput={(e) => edit(i, { minNewCalls: e.currentTarget.value })} />
              {at(`steps[${i}].minNewCalls`)}
            </label>
            <label>
              Step {i + 1} comparisons
              <input inputMode="numeric" value={s.minComparisons} onInput={(e) => edit(i, { minComparisons: e.currentTarget.value })} />
              {at(`steps[${i}].minComparisons`)}
            </label>
            <label class="inline">
              <input type="checkbox" checked={s.requiresApproval} onChange={(e) => edit(i, { requiresApproval: e.currentTarget.checked })} /> Step {i + 1} needs approval
            </label>
            {steps.length > 1 && (
              <button type="button" class="small" onClick={() => setSteps(steps.filter((_, j) => j !== i))}>
                Remove step {i + 1}
              </button>
            )}
          </div>
        ))}
        <button type="button" onClick={() => setSteps([...steps, { percent: '', minDuration: '1h', minNewCalls: '0', minComparisons: '0', requiresApproval: false }])}>
          Add step
        </button>
      </fieldset>
      <fieldset>
        <legend>Gates (each optional)</legend>
        <div class="gate-input">
          <label class="inline">
            <input type="checkbox" checked={failure.on} onChange={(e) => setFailure({ ...failure, on: e.currentTarget.checked })} /> Failure rate
          </label>
          <label>
            Failure ceiling (%)
            <input inputMode="decimal" value={failure.ceilingPercent} disabled={!failure.on} onInput={(e) => setFailure({ ...failure, ceilingPercent: e.currentTarget.value })} />
            {at('gates.failureRate.ceilingPercent')}
          </label>
          {onFail(failure.onFail, (a) => setFailure({ ...failure, onFail: a }), 'Failure rate on fail')}
        </div>
        <div class="gate-input">
          <label class="inline">
            <input type="checkbox" checked={latency.on} onChange={(e) => setLatency({ ...latency, on: e.currentTarget.checked })} /> Latency
          </label>
          <label>
            Percentile (50, 95, 99)
            <input inputMode="numeric" value={latency.percentile} disabled={!latency.on} onInput={(e) => setLatency({ ...latency, percentile: e.currentTarget.value })} />
            {at('gates.latency.percentile')}
          </label>
          <label>
            Max ratio NEW/LEGACY
            <input inputMode="decimal" value={latency.maxRatio} disabled={!latency.on} onInput={(e) => setLatency({ ...latency, maxRatio: e.currentTarget.value })} />
            {at('gates.latency.maxRatio')}
          </label>
          <label>
            Ceiling (ms)
            <input inputMode="decimal" value={latency.ceilingMs} disabled={!latency.on} onInput={(e) => setLatency({ ...latency, ceilingMs: e.currentTarget.value })} />
            {at('gates.latency.ceilingMs')}
          </label>
          {onFail(latency.onFail, (a) => setLatency({ ...latency, onFail: a }), 'Latency on fail')}
        </div>
        <div class="gate-input">
          <label class="inline">
            <input type="checkbox" checked={mismatch.on} onChange={(e) => setMismatch({ ...mismatch, on: e.currentTarget.checked })} /> Mismatch
          </label>
          <label>
            Mismatch threshold (%, empty: the slice's)
            <input
              inputMode="decimal"
              value={mismatch.thresholdPercent}
              disabled={!mismatch.on}
              onInput={(e) => setMismatch({ ...mismatch, thresholdPercent: e.currentTarget.value })}
            />
            {at('gates.mismatch.thresholdPercent')}
          </label>
          {onFail(mismatch.onFail, (a) => setMismatch({ ...mismatch, onFail: a }), 'Mismatch on fail')}
        </div>
        <div class="gate-input">
          <label class="inline">
            <input type="checkbox" checked={observed.on} onChange={(e) => setObserved({ ...observed, on: e.currentTarget.checked })} /> Observed share
          </label>
          <label>
            Tolerance (points)
            <input
              inputMode="decimal"
              value={observed.tolerancePercent}
              disabled={!observed.on}
              onInput={(e) => setObserved({ ...observed, tolerancePercent: e.currentTarget.value })}
            />
            {at('gates.observedShare.tolerancePercent')}
          </label>
          {onFail(observed.onFail, (a) => setObserved({ ...observed, onFail: a }), 'Observed share on fail')}
        </div>
      </fieldset>
      <label>
        Reason
        <input name="plan-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} maxLength={2000} />
        {at('reason')}
      </label>
      <ErrorLine message={general} />
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          Create plan
        </button>
      </div>
    </form>
  );
}
