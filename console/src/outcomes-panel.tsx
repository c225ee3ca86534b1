import { useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { ErrorLine } from './error-line.js';
import { conflictMessage } from './field-errors.js';
import { when } from './format.js';
import { type ComparisonOutcome, loadObservation, type ObservationChange, type OutcomeWindow, type PathOutcome, setObservation, type SliceObservation } from './outcomes-api.js';
import { may, type Session } from './session.js';
import { usePolled } from './use-polled.js';

const WINDOWS: readonly { readonly value: OutcomeWindow; readonly label: string; readonly minutes: number | null }[] = [
  { value: 'LAST_5_MINUTES', label: '5 min', minutes: 5 },
  { value: 'LAST_HOUR', label: 'Hour', minutes: 60 },
  { value: 'LAST_DAY', label: 'Day', minutes: 1_440 },
  { value: 'SINCE_LAST_CHANGE', label: 'Since last change', minutes: null },
];

/** Points in "over time": few enough to read as a table. */
const POINTS = 24;

/** Outcomes are written every second or so and watched slices report every 2 s: refresh this often. */
const REFRESH_MS = 3_000;

/** Minutes per point so that a window of `minutes` has at most POINTS points. */
function stepFor(minutes: number): number {
  return Math.max(1, Math.ceil(minutes / POINTS));
}

/** A fraction as a percentage, with enough decimals for a 0.1 % threshold. */
export function rate(value: number | null): string {
  if (value === null) return '—';
  const pct = value * 100;
  return `${pct === 0 ? '0' : Math.abs(pct) < 1 ? pct.toFixed(3) : pct.toFixed(2)} %`;
}

function signedRate(value: number): string {
  return `${value > 0 ? '+' : ''}${rate(value)}`;
}

export function ms(value: number | null): string {
  if (value === null) return '—';
  return `${Math.abs(value) < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

function signedMs(value: number | null): string {
  return value === null ? '—' : `${value > 0 ? '+' : ''}${ms(value)}`;
}

function statusText(c: ComparisonOutcome): string {
  if (c.status === 'WITHIN') return 'WITHIN the threshold';
  if (c.status === 'ABOVE') return 'ABOVE the threshold';
  if (c.comparisonsNeeded === null) return 'NOT ENOUGH DATA: the observed rate equals the threshold';
  return `NOT ENOUGH DATA: ${c.comparisonsNeeded.toLocaleString('en')} more comparisons needed`;
}

/**
 * Both paths side by side over a window (Slice.outcomes, docs/outcomes.md): calls, failure rate
 * and latency percentiles, the difference NEW - LEGACY with its interval, the shadow comparisons
 * against the slice's threshold, per app, over time, and the newest mismatch diffs (untrusted text
 * from SDKs: rendered as text, never HTML). Refreshes every few seconds and at every change.
 */
export function OutcomesPanel({ session, sliceKey, revision }: { session: Session; sliceKey: string; revision: number }) {
  const [window, setWindow] = useState<OutcomeWindow>('LAST_HOUR');
  // SINCE_LAST_CHANGE has no fixed length: the span of the previous answer sets the step.
  const [sinceMinutes, setSinceMinutes] = useState<number | null>(null);
  const chosen = WINDOWS.find((w) => w.value === window)!;
  const step = stepFor(chosen.minutes ?? sinceMinutes ?? 60);
  const { data, error } = usePolled<SliceObservation>(() => loadObservation(sliceKey, window, step), [sliceKey, window, step, revision], REFRESH_MS, {
    onLoaded: (loaded) => {
      if (window === 'SINCE_LAST_CHANGE') setSinceMinutes(Math.round((Date.parse(loaded.outcomes.to) - Date.parse(loaded.outcomes.from)) / 60_000));
    },
  });

  return (
    <section class="outcomes" aria-label="Outcomes">
      <h2>Outcomes</h2>
      <div class="windows" role="group" aria-label="Window">
        {WINDOWS.map((w) => (
          <button type="button" aria-pressed={w.value === window} class={w.value === window ? 'chosen' : ''} onClick={() => setWindow(w.value)}>
            {w.label}
          </button>
        ))}
      </div>
      <ErrorLine message={error} />
      {data === null ? <p class="loading">Loading outcomes…</p> : <OutcomesView data={data} session={session} />}
    </section>
  );
}

function OutcomesView({ data, session }: { data: SliceObservation; session: Session }) {
  const o = data.outcomes;
  const c = o.comparison;
  return (
    <>
      <p class="muted">
        From {when(o.from)} to {when(o.to)}
      </p>
      <table class="paths">
        <thead>
          <tr>
            <th></th>
            <th>Calls</th>
            <th>Failure rate</th>
            <th>p50</th>
            <th>p95</th>
            <th>p99</th>
          </tr>
        </thead>
        <tbody>
          <PathRow label="LEGACY" p={o.legacy} />
          <PathRow label="NEW" p={o.new} />
          <tr data-path="DIFFERENCE">
            <th>NEW − LEGACY</th>
            <td></td>
            <td>
              {o.failureRateDifference === null
                ? '—'
                : `${signedRate(o.failureRateDifference.estimate)} (95 %: ${signedRate(o.failureRateDifference.low)} to ${signedRate(o.failureRateDifference.high)})`}
            </td>
            <td>{signedMs(o.latencyDifferenceMs?.p50 ?? null)}</td>
            <td>{signedMs(o.latencyDifferenceMs?.p95 ?? null)}</td>
            <td>{signedMs(o.latencyDifferenceMs?.p99 ?? null)}</td>
          </tr>
        </tbody>
      </table>
      <h3>Shadow comparisons</h3>
      <dl class="facts comparison">
        <dt>Compared</dt>
        <dd>
          {c.compared} ({c.mismatches} mismatches; the path not served failed {c.otherFailures}, timed out {c.timeouts})
        </dd>
        <dt>Mismatch rate</dt>
        <dd class="mismatch-rate">
          {rate(c.mismatchRate)}
          {c.mismatchRateLow !== null && c.mismatchRateHigh !== null && ` (95 %: ${rate(c.mismatchRateLow)} to ${rate(c.mismatchRateHigh)})`} against {c.thresholdPercent} %
        </dd>
        <dt>Status</dt>
        <dd>
          <span class={`status comparison-${c.status.toLowerCase()}`} data-comparison-status={c.status}>
            {statusText(c)}
          </span>
        </dd>
      </dl>
      {o.byApp.length > 0 && (
        <>
          <h3>Per app</h3>
          <table class="by-app">
            <PathColumns first="App" />
            <tbody>
              {o.byApp.map((a) => (
                <tr data-app={a.appName}>
                  <td>{a.appName}</td>
                  <td>{a.legacy.calls}</td>
                  <td>{rate(a.legacy.failureRate)}</td>
                  <td>{ms(a.legacy.p95Ms)}</td>
                  <td>{a.new.calls}</td>
                  <td>{rate(a.new.failureRate)}</td>
                  <td>{ms(a.new.p95Ms)}</td>
                  <td>{a.comparison.compared === 0 ? '—' : `${a.comparison.mismatches} of ${a.comparison.compared} (${a.comparison.status.replaceAll('_', ' ')})`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h3>Over time</h3>
      <table class="series">
        <PathColumns first="From" />
        <tbody>
          {o.series.map((p) => (
            <tr>
              <td>{when(p.start)}</td>
              <td>{p.legacyCalls}</td>
              <td>{p.legacyCalls === 0 ? '—' : rate(p.legacyFailures / p.legacyCalls)}</td>
              <td>{ms(p.legacyP95Ms)}</td>
              <td>{p.newCalls}</td>
              <td>{p.newCalls === 0 ? '—' : rate(p.newFailures / p.newCalls)}</td>
              <td>{ms(p.newP95Ms)}</td>
              <td>{p.compared === 0 ? '—' : `${p.mismatches} of ${p.compared}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Newest mismatches</h3>
      {c.samples.length === 0 ? (
        <p class="muted">No mismatch samples.</p>
      ) : (
        <ul class="samples">
          {c.samples.map((s) => (
            <li data-subject={s.subject}>
              <p class="muted">
                {s.at} · {s.appName} · served {s.served} · subject {s.subject}
              </p>
              {/* The diff is an SDK's text: a text node, never markup. */}
              <pre class="diff-text">{s.diff}</pre>
            </li>
          ))}
        </ul>
      )}
      <ObservationSettings data={data} editable={may.change(session) && data.state !== 'ARCHIVED'} />
    </>
  );
}

function PathRow({ label, p }: { label: string; p: PathOutcome }) {
  return (
    <tr data-path={label}>
      <th>{label}</th>
      <td>{p.calls}</td>
      <td>{p.calls === 0 ? '—' : `${rate(p.failureRate)} (${p.failures})`}</td>
      <td>{ms(p.p50Ms)}</td>
      <td>{ms(p.p95Ms)}</td>
      <td>{ms(p.p99Ms)}</td>
    </tr>
  );
}

/**
 * watched, shadowPercent and the mismatch threshold: shown to everyone, editable by the roles that
 * may change slices (the service refuses anyone else). Sends only what changed, with the version
 * shown when editing began, so a change made meanwhile is refused and said.
 */
function ObservationSettings({ data, editable }: { data: SliceObservation; editable: boolean }) {
  const [watched, setWatched] = useState<boolean | null>(null);
  const [shadow, setShadow] = useState<string | null>(null);
  const [threshold, setThreshold] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [baseVersion, setBaseVersion] = useState<number | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string; field: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const editing = () => setBaseVersion((v) => v ?? data.version);
  const change: ObservationChange = {
    ...(watched !== null && watched !== data.watched ? { watched } : {}),
    ...(shadow !== null && shadow.trim() !== '' && Number(shadow) !== data.shadowPercent ? { shadowPercent: Number(shadow) } : {}),
    ...(threshold !== null && threshold.trim() !== '' && Number(threshold) !== data.mismatchThresholdPercent ? { mismatchThresholdPercent: Number(threshold) } : {}),
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      await setObservation(data.key, change, reason, baseVersion ?? data.version);
      setMessage({ kind: 'ok', text: 'Observation saved.', field: null });
      setWatched(null);
      setShadow(null);
      setThreshold(null);
      setReason('');
      setBaseVersion(null);
    } catch (e) {
      const error = e instanceof ApiError ? e : new ApiError(String(e), 'INTERNAL');
      if (error.errorCode === 'SLICE_VERSION_CONFLICT') setBaseVersion(null);
      setMessage({ kind: 'error', text: conflictMessage(error) ?? error.message, field: error.field });
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (field: string) =>
    message?.kind === 'error' && message.field === field ? (
      <span class="field-error" role="alert">
        {message.text}
      </span>
    ) : null;
  if (!editable)
    return (
      <dl class="facts observation">
        <dt>Watched</dt>
        <dd>{data.watched ? 'yes: SDKs report it every few seconds' : 'no'}</dd>
        <dt>Shadow share</dt>
        <dd>{data.shadowPercent} % of compare calls</dd>
        <dt>Mismatch threshold</dt>
        <dd>{data.mismatchThresholdPercent} %</dd>
      </dl>
    );
  return (
    <form class="observation" onSubmit={(e) => void submit(e)} noValidate>
      <h3>Observation</h3>
      <label class="inline">
        <input name="watched" type="checkbox" checked={watched ?? data.watched} onChange={(e) => (setWatched(e.currentTarget.checked), editing())} /> Watched (SDKs report every few
        seconds)
        {fieldError('watched')}
      </label>
      <label>
        Shadow share (% of compare calls)
        <input
          name="shadowPercent"
          type="number"
          min="0"
          max="100"
          step="0.01"
          value={shadow ?? String(data.shadowPercent)}
          onInput={(e) => (setShadow(e.currentTarget.value), editing())}
        />
        {fieldError('shadowPercent')}
      </label>
      <label>
        Mismatch threshold (%)
        <input
          name="mismatchThresholdPercent"
          type="number"
          min="0"
          max="100"
          step="0.0001"
          value={threshold ?? String(data.mismatchThresholdPercent)}
          onInput={(e) => (setThreshold(e.currentTarget.value), editing())}
        />
        {fieldError('mismatchThresholdPercent')}
      </label>
      <label>
        Reason
        <input name="observation-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        {fieldError('reason')}
      </label>
      <button type="submit" class="primary" disabled={busy || Object.keys(change).length === 0}>
        Save observation
      </button>
      {message !== null && !(message.kind === 'error' && ['watched', 'shadowPercent', 'mismatchThresholdPercent', 'reason'].includes(message.field ?? '')) && (
        <p class={message.kind === 'ok' ? 'ok' : 'error'} role={message.kind === 'ok' ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
    </form>
  );
}

/** The header of the per-app and over-time tables: what the rows are, then both paths' columns side by side. */
function PathColumns({ first }: { first: string }) {
  return (
    <thead>
      <tr>
        <th>{first}</th>
        <th>LEGACY calls</th>
        <th>LEGACY failures</th>
        <th>LEGACY p95</th>
        <th>NEW calls</th>
        <th>NEW failures</th>
        <th>NEW p95</th>
        <th>Mismatches</th>
      </tr>
    </thead>
  );
}
