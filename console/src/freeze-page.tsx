import { useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { ReasonDialog } from './dialogs.js';
import { ErrorLine } from './error-line.js';
import { conflictMessage } from './field-errors.js';
import { inZone } from './format.js';
import { deleteFreezeWindow, type FreezeWindow, type FreezeWindowInput, listFreezeWindows, saveFreezeWindow } from './freeze-api.js';
import { may, type Session } from './session.js';
import { usePolled } from './use-polled.js';

/**
 * Windows change no configuration SDKs evaluate, so the live feed does not announce them, and
 * whether one is on changes with time alone: the page asks again this often.
 */
const POLL_MS = 10_000;

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** "days 25 of the month, Mondays, from 00:00 for 3d", or "from … until …" in the window's zone. */
export function scheduleText(w: FreezeWindow): string {
  if (w.recurrence === null) return `from ${inZone(w.from ?? '', w.timeZone)} until ${inZone(w.until ?? '', w.timeZone)}`;
  const r = w.recurrence;
  const days = [
    r.daysOfMonth === null ? '' : `day${r.daysOfMonth.length === 1 ? '' : 's'} ${r.daysOfMonth.join(', ')} of the month`,
    r.weekdays === null ? '' : r.weekdays.map((d) => WEEKDAYS[d - 1] ?? String(d)).join(', '),
  ].filter((p) => p !== '');
  return `${days.length === 0 ? 'every day' : days.join(', ')}, from ${r.at} for ${r.duration}`;
}

function problem(e: unknown): string {
  if (!(e instanceof ApiError)) return String(e);
  return conflictMessage(e) ?? `${e.message} (${e.errorCode ?? e.code})`;
}

/** Every freeze window: on now (until when) or its next start, in its own time zone; create, edit and delete as the role allows. */
export function FreezePage({ session }: { session: Session }) {
  const [editing, setEditing] = useState<FreezeWindow | 'new' | null>(null);
  const [deleting, setDeleting] = useState<FreezeWindow | null>(null);
  const { data: windows, error, reload } = usePolled<FreezeWindow[]>(listFreezeWindows, [], POLL_MS, { describe: problem });
  const admin = session.role === 'admin';
  return (
    <section>
      <div class="toolbar">
        <h1>Freeze windows</h1>
        <span class="count">{windows === null ? '' : `${windows.length} windows`}</span>
        {may.change(session) && editing === null && (
          <button type="button" class="primary" onClick={() => setEditing('new')}>
            New window…
          </button>
        )}
      </div>
      <p class="muted">
        While a window covering a slice is on, its exposure cannot be raised and no plan advances; rollback is always allowed. Only an admin may override one, delete one, or change
        one that is on.
      </p>
      <ErrorLine message={error} />
      {editing !== null && <FreezeForm window={editing === 'new' ? null : editing} onDone={() => (setEditing(null), reload())} onCancel={() => setEditing(null)} />}
      {windows !== null && windows.length === 0 && <p class="muted">No freeze window.</p>}
      {windows !== null && windows.length > 0 && (
        <table class="freeze-windows">
          <thead>
            <tr>
              <th>Window</th>
              <th>Covers</th>
              <th>Schedule</th>
              <th>Now</th>
              <th>Version</th>
              {may.change(session) && <th>Actions</th>}
            </tr>
          </thead>
          <tbody>
            {windows.map((w) => (
              <tr data-window={w.key} data-active={w.active !== null ? 'true' : 'false'}>
                <td>
                  <strong>{w.key}</strong>
                  {w.description !== '' && <div class="muted window-description">{w.description}</div>}
                </td>
                <td>{w.tag === null ? 'every slice' : `slices tagged ${w.tag}`}</td>
                <td>{scheduleText(w)}</td>
                <td class="freeze-now">
                  {w.active !== null ? (
                    <span class="frozen">ON until {inZone(w.active.until, w.timeZone)}</span>
                  ) : w.next !== null && w.next.from !== null ? (
                    `next: ${inZone(w.next.from, w.timeZone)} to ${inZone(w.next.until, w.timeZone)}`
                  ) : (
                    'off, none to come'
                  )}
                </td>
                <td>{w.version}</td>
                {may.change(session) && (
                  <td>
                    {(admin || w.active === null) && (
                      <button type="button" class="small" onClick={() => setEditing(w)}>
                        Edit {w.key}
                      </button>
                    )}
                    {admin && (
                      <button type="button" class="small danger" onClick={() => setDeleting(w)}>
                        Delete {w.key}…
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {deleting !== null && (
        <ReasonDialog
          title={`Delete freeze window ${deleting.key}`}
          summary={deleting.active !== null ? 'It is on now: deleting it lifts the freeze at once.' : 'Its future freezes no longer apply.'}
          confirmLabel="Delete"
          danger
          onConfirm={async (reason) => (await deleteFreezeWindow(deleting.key, reason, deleting.version), reload())}
          onClose={() => setDeleting(null)}
        />
      )}
    </section>
  );
}

/** Numbers typed as "25, 26" (or "" for none). */
function numberList(text: string): number[] | null {
  const parts = text
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return parts.length === 0 ? null : parts.map(Number);
}

const FIELDS = ['key', 'description', 'timeZone', 'tag', 'from', 'until', 'recurrence', 'reason'];

/** Creates a window (`window` null) or replaces one as a whole; the service's refusals at their fields. */
function FreezeForm({ window, onDone, onCancel }: { window: FreezeWindow | null; onDone: () => void; onCancel: () => void }) {
  const [key, setKey] = useState(window?.key ?? '');
  const [description, setDescription] = useState(window?.description ?? '');
  const [timeZone, setTimeZone] = useState(window?.timeZone ?? 'UTC');
  const [tag, setTag] = useState(window?.tag ?? '');
  const [kind, setKind] = useState<'RECURRING' | 'ONE_OFF'>(window?.kind ?? 'RECURRING');
  const [from, setFrom] = useState(window?.from ?? '');
  const [until, setUntil] = useState(window?.until ?? '');
  const [days, setDays] = useState(window?.recurrence?.daysOfMonth?.join(', ') ?? '');
  const [weekdays, setWeekdays] = useState(window?.recurrence?.weekdays?.join(', ') ?? '');
  const [at, setAt] = useState(window?.recurrence?.at ?? '00:00');
  const [duration, setDuration] = useState(window?.recurrence?.duration ?? '1d');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const input: FreezeWindowInput = {
      key: key.trim(),
      description,
      timeZone: timeZone.trim(),
      tag: tag.trim() === '' ? null : tag.trim(),
      from: kind === 'ONE_OFF' ? from.trim() : null,
      until: kind === 'ONE_OFF' ? until.trim() : null,
      recurrence: kind === 'RECURRING' ? { daysOfMonth: numberList(days), weekdays: numberList(weekdays), at: at.trim(), duration: duration.trim() } : null,
      reason: reason.trim(),
    };
    try {
      await saveFreezeWindow(input, window === null ? null : window.version);
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), 'INTERNAL'));
    } finally {
      setBusy(false);
    }
  };
  // The field a refusal names (`recurrence.daysOfMonth[0]` belongs to recurrence.daysOfMonth).
  const owner = error?.field === null || error?.field === undefined ? null : error.field.replace(/\[\d+\]$/, '');
  const at_ = (field: string) =>
    error !== null && owner === field ? (
      <span class="field-error" role="alert" data-field={error.field}>
        {conflictMessage(error) ?? error.message}
      </span>
    ) : null;
  const shown = new Set([...FIELDS, 'recurrence.daysOfMonth', 'recurrence.weekdays', 'recurrence.at', 'recurrence.duration']);
  return (
    <form class="freeze-form panel" onSubmit={(e) => void submit(e)} noValidate>
      <h2>{window === null ? 'New freeze window' : `Edit ${window.key}`}</h2>
      {window === null && (
        <label>
          Key
          <input name="window-key" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
          {at_('key')}
        </label>
      )}
      <label>
        Description
        <input name="window-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} maxLength={2000} />
        {at_('description')}
      </label>
      <label>
        Time zone (IANA, e.g. Africa/Nairobi)
        <input name="time-zone" value={timeZone} onInput={(e) => setTimeZone(e.currentTarget.value)} />
        {at_('timeZone')}
      </label>
      <label>
        Only slices tagged (empty: every slice)
        <input name="window-tag" value={tag} onInput={(e) => setTag(e.currentTarget.value)} />
        {at_('tag')}
      </label>
      <fieldset>
        <legend>When</legend>
        <label class="inline">
          <input type="radio" name="kind" checked={kind === 'RECURRING'} onChange={() => setKind('RECURRING')} /> Recurring
        </label>
        <label class="inline">
          <input type="radio" name="kind" checked={kind === 'ONE_OFF'} onChange={() => setKind('ONE_OFF')} /> One-off
        </label>
        {at_('recurrence')}
        {kind === 'RECURRING' ? (
          <>
            <label>
              Days of the month (e.g. 25; empty: any)
              <input name="days-of-month" value={days} onInput={(e) => setDays(e.currentTarget.value)} />
              {at_('recurrence.daysOfMonth')}
            </label>
            <label>
              Weekdays (1 Monday … 7 Sunday; empty: any)
              <input name="weekdays" value={weekdays} onInput={(e) => setWeekdays(e.currentTarget.value)} />
              {at_('recurrence.weekdays')}
            </label>
            <label>
              Starts at (HH:MM, local)
              <input name="at" value={at} onInput={(e) => setAt(e.currentTarget.value)} />
              {at_('recurrence.at')}
            </label>
            <label>
              Lasts (3d, 6h, 1d12h)
              <input name="duration" value={duration} onInput={(e) => setDuration(e.currentTarget.value)} />
              {at_('recurrence.duration')}
            </label>
          </>
        ) : (
          <>
            <label>
              From (an instant, e.g. 2026-12-20T00:00:00+13:00)
              <input name="from" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
              {at_('from')}
            </label>
            <label>
              Until (excluded)
              <input name="until" value={until} onInput={(e) => setUntil(e.currentTarget.value)} />
              {at_('until')}
            </label>
          </>
        )}
      </fieldset>
      <label>
        Reason
        <input name="window-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} maxLength={2000} />
        {at_('reason')}
      </label>
      <ErrorLine message={error !== null && (owner === null || !shown.has(owner)) ? problem(error) : null} />
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {window === null ? 'Create window' : 'Save window'}
        </button>
      </div>
    </form>
  );
}
