import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { ReasonDialog } from './dialogs.js';
import { conflictMessage } from './field-errors.js';
import { inZone, percent, share, targetingSummary, when } from './format.js';
import { HistoryList } from './history-list.js';
import { OutcomesPanel } from './outcomes-panel.js';
import { PlanPanel } from './plan-panel.js';
import { may, type Session } from './session.js';
import { listSegments } from './segments-api.js';
import {
  type HistoryRow,
  loadSegmentCoverage,
  loadSlice,
  resume,
  resumeSegment,
  rollback,
  rollbackSegment,
  type SegmentCoverage,
  setRollout,
  type SliceDetail,
} from './slices-api.js';
import { EvaluatePanel, TargetingEditor } from './targeting-editor.js';
import { usePolled } from './use-polled.js';

interface Props {
  readonly session: Session;
  readonly sliceKey: string;
  readonly revision: number;
}

/** One slice: its rollout control, the separated Roll back, both paths' outcomes, who follows it, and its history with diffs. */
export function SlicePage({ session, sliceKey, revision }: Props) {
  const [dialog, setDialog] = useState<'rollback' | 'resume' | 'rollback-segment' | null>(null);
  /** The rolled-back segment whose resume is being confirmed. */
  const [resuming, setResuming] = useState<string | null>(null);
  const [planPhase, setPlanPhase] = useState<string | null>(null);
  // Followers report every few seconds: refresh them while the page is open, as well as on changes.
  const { data, error } = usePolled<{ slice: SliceDetail; history: HistoryRow[] }>(() => loadSlice(sliceKey), [sliceKey, revision], 5_000);

  if (data === null) return error === null ? <p class="loading">Loading {sliceKey}…</p> : <p class="error">{error}</p>;
  const { slice, history } = data;
  const behind = slice.followers.filter((f) => f.status === 'BEHIND').length;
  return (
    <section class="slice-page">
      <p>
        <a href="#/slices">← All slices</a>
      </p>
      <header class="slice-header">
        <h1>{slice.key}</h1>
        <span class={`state state-${slice.state.toLowerCase()}`}>{slice.state.replace('_', ' ')}</span>
        {may.rollback(session) && slice.state === 'ACTIVE' && (
          <button type="button" class="danger" onClick={() => setDialog('rollback')}>
            Roll back…
          </button>
        )}
        {may.rollback(session) && slice.state !== 'ARCHIVED' && (
          <button type="button" class="danger" onClick={() => setDialog('rollback-segment')}>
            Roll back a segment…
          </button>
        )}
        {may.change(session) && slice.state === 'ROLLED_BACK' && (
          <button type="button" class="primary" onClick={() => setDialog('resume')}>
            Resume…
          </button>
        )}
      </header>
      {error !== null && <p class="error">{error}</p>}
      <dl class="facts">
        <dt>Description</dt>
        <dd>{slice.description === '' ? '—' : slice.description}</dd>
        <dt>Owner</dt>
        <dd>{slice.owner === '' ? '—' : slice.owner}</dd>
        <dt>Rollout</dt>
        <dd>
          {percent(slice.percent)} on NEW, by {slice.stickinessAttribute}
        </dd>
        <dt>Targeting</dt>
        <dd>{targetingSummary(slice.targeting)}</dd>
        <dt>Rolled-back segments</dt>
        <dd class="rolled-back-segments">
          {slice.rolledBackSegments.length === 0
            ? '—'
            : slice.rolledBackSegments.map((segment) => (
                <span class="rolled-back-segment" data-segment={segment}>
                  {segment} (LEGACY){' '}
                  {may.change(session) && slice.state !== 'ARCHIVED' && (
                    <button type="button" class="primary" onClick={() => setResuming(segment)}>
                      Resume {segment}…
                    </button>
                  )}{' '}
                </span>
              ))}
        </dd>
        <dt>Tags</dt>
        <dd>{slice.tags.join(', ') || '—'}</dd>
        <dt>NEW seen (5 min)</dt>
        <dd>{share(slice.traffic.last5Minutes.newShare)}</dd>
        <dt>Version</dt>
        <dd>{slice.version}</dd>
        <dt>Freeze</dt>
        <dd class="slice-freeze">
          {slice.freeze.active !== null
            ? `frozen by ${slice.freeze.active.window} until ${inZone(slice.freeze.active.until, slice.freeze.active.timeZone)}`
            : slice.freeze.next !== null && slice.freeze.next.from !== null
              ? `none now; next: ${slice.freeze.next.window} from ${inZone(slice.freeze.next.from, slice.freeze.next.timeZone)}`
              : 'none'}
        </dd>
      </dl>
      <PlanPanel session={session} sliceKey={slice.key} revision={revision} sliceActive={slice.state === 'ACTIVE'} onPhase={setPlanPhase} />
      {may.change(session) &&
        slice.state === 'ACTIVE' &&
        (planPhase === 'RUNNING' ? (
          // The service refuses a manual change of exposure while the plan runs (PLAN_RUNNING): not offered.
          <p class="plan-owns-exposure">A running plan moves this slice&apos;s rollout and targeting: pause it (above) to change them by hand. Rollback needs no pause.</p>
        ) : (
          <div class="editors">
            <RolloutControl slice={slice} admin={session.role === 'admin'} />
            <TargetingEditor slice={slice} />
          </div>
        ))}
      <EvaluatePanel sliceKey={slice.key} />
      <OutcomesPanel session={session} sliceKey={slice.key} revision={revision} />
      <h2>
        Followers <span class="count">{slice.followers.length === 0 ? 'none reporting' : behind === 0 ? 'all up to date' : `${behind} behind`}</span>
      </h2>
      <table class="followers">
        <thead>
          <tr>
            <th>App</th>
            <th>Instance</th>
            <th>Revision</th>
            <th>Status</th>
            <th>Served</th>
            <th>Last seen</th>
          </tr>
        </thead>
        <tbody>
          {slice.followers.map((f) => (
            <tr data-follower={f.instanceId} data-status={f.status}>
              <td>{f.appName}</td>
              <td>{f.instanceId}</td>
              <td>{f.revision ?? '—'}</td>
              <td>
                <span class={`status status-${f.status.toLowerCase()}`}>{f.status.replaceAll('_', ' ')}</span>
              </td>
              <td>{f.servedForm ?? '—'}</td>
              <td>{when(f.lastSeenAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {slice.followers.length === 0 && <p class="muted">No SDK has reported decisions for this slice in the last hour.</p>}
      <h2>History</h2>
      <HistoryList rows={history} />
      {dialog === 'rollback' && (
        <ReasonDialog
          title={`Roll back ${slice.key}`}
          summary={`Everyone goes to LEGACY (now ${percent(slice.percent)} on NEW). Resume restores the rollout exactly.`}
          confirmLabel="Roll back now"
          danger
          onConfirm={(reason) => rollback(slice.key, reason)}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === 'rollback-segment' && <SegmentRollbackDialog slice={slice} onClose={() => setDialog(null)} />}
      {resuming !== null && (
        <ReasonDialog
          title={`Resume segment ${resuming} on ${slice.key}`}
          summary={`Its subjects decide by the slice's rollout and targeting again (${percent(slice.percent)} on NEW by default).`}
          confirmLabel="Resume the segment"
          onConfirm={(reason) => resumeSegment(slice.key, resuming, reason, slice.version)}
          onClose={() => setResuming(null)}
        />
      )}
      {dialog === 'resume' && (
        <ReasonDialog
          title={`Resume ${slice.key}`}
          summary={`The rollout and targeting from before the rollback apply again (${percent(slice.percent)} on NEW).`}
          confirmLabel="Resume"
          onConfirm={(reason) => resume(slice.key, reason, slice.version)}
          onClose={() => setDialog(null)}
        />
      )}
    </section>
  );
}

/** What a FREEZE_WINDOW refusal says: the window and until when, in its own time zone. */
function freezeRefusal(error: ApiError): string | null {
  if (error.errorCode !== 'FREEZE_WINDOW') return null;
  const { window, until, timeZone } = error.details;
  if (typeof window !== 'string' || typeof until !== 'string' || typeof timeZone !== 'string') return error.message;
  return `Refused: freeze window ${window} is on until ${inZone(until, timeZone)}. Nothing was changed; lowering exposure and rolling back are allowed.`;
}

/**
 * Rolls one segment of the slice back to LEGACY: choose the segment, say why, confirm once. For the
 * chosen segment it says how many of the last hour's decisions the segment covered, from the
 * decisions SDKs sampled, or why that is not measured (docs/segment-rollback.md, "Coverage").
 * Coverage is a help, never a precondition: the rollback does not wait for it.
 */
function SegmentRollbackDialog({ slice, onClose }: { slice: SliceDetail; onClose: () => void }) {
  const [segments, setSegments] = useState<string[] | null>(null);
  const [segment, setSegment] = useState('');
  // Undefined while loading; null when it could not be read.
  const [coverage, setCoverage] = useState<SegmentCoverage[] | null | undefined>(undefined);
  useEffect(() => {
    let current = true;
    listSegments().then(
      (all) => current && setSegments(all.map((s) => s.key).filter((k) => !slice.rolledBackSegments.includes(k))),
      () => current && setSegments([]),
    );
    loadSegmentCoverage(slice.key).then(
      (list) => current && setCoverage(list),
      () => current && setCoverage(null),
    );
    return () => {
      current = false;
    };
  }, [slice.key]);
  return (
    <ReasonDialog
      title={`Roll back a segment of ${slice.key}`}
      summary="Every subject of the segment goes to LEGACY on this slice, whatever its rollout and targeting say; the rest of the slice is untouched. Resume brings the segment back exactly."
      confirmLabel="Roll back the segment now"
      danger
      ready={segment !== ''}
      onConfirm={(reason) => rollbackSegment(slice.key, segment, reason)}
      onClose={onClose}
    >
      <label>
        Segment
        <select name="segment" value={segment} onChange={(e) => setSegment(e.currentTarget.value)} required>
          <option value="">{segments === null ? 'Loading…' : 'Choose a segment'}</option>
          {(segments ?? []).map((key) => (
            <option value={key}>{key}</option>
          ))}
        </select>
      </label>
      {segment !== '' && <p class="segment-coverage">{coverageText(segment, coverage)}</p>}
    </ReasonDialog>
  );
}

/** "Covered about N of the last M decisions (x %, last hour, sampled)", or why it is not measured. Text only. */
export function coverageText(segment: string, coverage: readonly SegmentCoverage[] | null | undefined): string {
  if (coverage === undefined) return 'Coverage: loading…';
  if (coverage === null) return 'Coverage could not be read; the rollback does not need it.';
  const c = coverage.find((entry) => entry.segmentKey === segment);
  if (c === undefined) return 'Coverage not measured: this slice does not name the segment in its targeting, so SDKs do not sample it.';
  if (!c.measured || c.share === null || c.shareLow === null || c.shareHigh === null) {
    return `Coverage not measured: no sampled decisions in the last hour (of ${c.decisions.toLocaleString('en')} decisions). SDKs before segment coverage and Unleash SDKs do not sample.`;
  }
  const pct = (v: number) => `${(v * 100).toFixed(1)}`;
  return (
    `Covered about ${(c.estimatedDecisions ?? 0).toLocaleString('en')} of the last ${c.decisions.toLocaleString('en')} decisions ` +
    `(${pct(c.share)} %, 95 % interval ${pct(c.shareLow)}–${pct(c.shareHigh)} %, last hour, sampled: ${c.inSegment.toLocaleString('en')} of ${c.sampled.toLocaleString('en')}).`
  );
}

/**
 * Moves the rollout: shows the current and the new percentage and how many subjects move, asks
 * why, and sends the version it was shown, so that a change made meanwhile is refused and said,
 * never overwritten. A raise refused by a freeze window says which and until when; an admin then
 * sees the override, which needs a reason of its own (recorded as FREEZE_OVERRIDDEN).
 */
function RolloutControl({ slice, admin }: { slice: SliceDetail; admin: boolean }) {
  const [target, setTarget] = useState(String(slice.percent));
  // The version shown when the person started typing: a change made meanwhile (even one the live
  // feed has already shown) is refused by the service rather than silently decided over.
  const [baseVersion, setBaseVersion] = useState<number | null>(null);
  const [reason, setReason] = useState('');
  const [message, setMessage] = useState<{ kind: 'error' | 'ok'; text: string; field: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  // Offered to an admin once a freeze window refused the raise: the service refuses an override where none is needed.
  const [frozen, setFrozen] = useState(false);
  const [override, setOverride] = useState('');
  const next = Number(target);
  const valid = target.trim() !== '' && Number.isFinite(next);
  const moving = valid ? Math.abs(next - slice.percent) : 0;
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const overriding = admin && frozen && override.trim() !== '';
      await setRollout(slice.key, next, reason, baseVersion ?? slice.version, overriding ? override.trim() : null);
      setMessage({ kind: 'ok', text: `Moved to ${percent(next)}${overriding ? ' (freeze overridden)' : ''}.`, field: null });
      setReason('');
      setBaseVersion(null);
      setFrozen(false);
      setOverride('');
    } catch (e) {
      const error = e instanceof ApiError ? e : new ApiError(String(e), 'INTERNAL');
      if (error.errorCode === 'FREEZE_WINDOW') setFrozen(true);
      const text = freezeRefusal(error) ?? conflictMessage(error) ?? error.message;
      if (error.errorCode === 'SLICE_VERSION_CONFLICT') setBaseVersion(null);
      setMessage({ kind: 'error', text, field: error.field });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="rollout-control" onSubmit={(e) => void submit(e)} noValidate>
      <h2>Rollout</h2>
      <label>
        New share on NEW (%)
        <input
          name="percent"
          type="number"
          min="0"
          max="100"
          step="0.01"
          value={target}
          onInput={(e) => (setTarget(e.currentTarget.value), setBaseVersion((v) => v ?? slice.version))}
        />
        {message?.field === 'percent' && (
          <span class="field-error" role="alert">
            {message.text}
          </span>
        )}
      </label>
      <p class="preview">
        {percent(slice.percent)} → {valid ? percent(next) : '?'}:{' '}
        {moving === 0 ? 'nobody moves' : `about ${percent(moving)} of subjects move to ${next > slice.percent ? 'NEW' : 'LEGACY'}`}
      </p>
      <label>
        Reason
        <input name="rollout-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        {message?.field === 'reason' && (
          <span class="field-error" role="alert">
            {message.text}
          </span>
        )}
      </label>
      {admin && frozen && (
        <label>
          Freeze override: why raise during the freeze (admins only, recorded)
          <input name="freeze-override" value={override} onInput={(e) => setOverride(e.currentTarget.value)} maxLength={2000} />
          {message?.field === 'freezeOverride' && (
            <span class="field-error" role="alert">
              {message.text}
            </span>
          )}
        </label>
      )}
      <button type="submit" class="primary" disabled={busy || !valid || next === slice.percent}>
        {admin && frozen && override.trim() !== '' ? 'Apply with override' : 'Apply'}
      </button>
      {message !== null && message.field === null && (
        <p class={message.kind === 'ok' ? 'ok' : 'error'} role={message.kind === 'ok' ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
    </form>
  );
}
