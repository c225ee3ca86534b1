import { ErrorLine } from './error-line.js';
import { percent, when } from './format.js';
import { listPlans, type PlanListRow } from './plans-api.js';
import { usePolled } from './use-polled.js';

/** The plans list asks again this often: the runner's looks move no revision the live feed could announce. */
const POLL_MS = 5_000;

/** Every slice's open plan (else its newest): phase, slice, current step, what it waits for. */
export function PlansPage({ revision }: { revision: number }) {
  const { data: plans, error } = usePolled<PlanListRow[]>(listPlans, [revision], POLL_MS);
  return (
    <section>
      <div class="toolbar">
        <h1>Plans</h1>
        <span class="count">{plans === null ? '' : `${plans.length} plans`}</span>
      </div>
      <ErrorLine message={error} />
      <p class="muted">A plan is created on its slice's page.</p>
      {plans !== null && plans.length === 0 && <p class="muted">No slice has a plan.</p>}
      {plans !== null && plans.length > 0 && (
        <table class="plans">
          <thead>
            <tr>
              <th>Slice</th>
              <th>Phase</th>
              <th>Step</th>
              <th>Waiting for</th>
              <th>Next step</th>
              <th>Author</th>
            </tr>
          </thead>
          <tbody>
            {plans.map((p) => {
              const step = p.steps[p.currentStep - 1];
              return (
                <tr data-plan={p.sliceKey} data-phase={p.phase}>
                  <td>
                    <a href={`#/slices/${encodeURIComponent(p.sliceKey)}`}>{p.sliceKey}</a>
                  </td>
                  <td>
                    <span class={`phase phase-${p.phase.toLowerCase()}`}>{p.phase.replace('_', ' ')}</span>
                  </td>
                  <td>
                    {p.currentStep} of {p.steps.length}
                    {step !== undefined && ` (${percent(step.percent)})`}
                    <div class="muted">{p.status.summary}</div>
                  </td>
                  <td class="waiting">{p.status.waitingFor.length === 0 ? '—' : p.status.waitingFor.join('; ')}</td>
                  <td>{p.status.nextStepEarliestAt === null ? '—' : when(p.status.nextStepEarliestAt)}</td>
                  <td>{p.author}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
