import { Component } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { takeEarlyList } from './boot.js';
import { ReasonDialog } from './dialogs.js';
import { RollbackProgress, type RollbackScope } from './rollback-progress.js';
import { percent, share, targetingSummary, when } from './format.js';
import { may, type Session } from './session.js';
import { createSlice, listSlices, listSliceStats, rollback, rollbackAll, type SliceCore, type SliceState, type SliceStats } from './slices-api.js';
import { ErrorLine } from './error-line.js';
import { useWindowRows } from './window-rows.js';

interface Props {
  readonly session: Session;
  /** Moves with every configuration change the live feed sees: the list reloads. */
  readonly revision: number;
}

type Pending = { kind: 'rollback'; slice: SliceCore } | { kind: 'rollbackAll'; tag: string } | null;

/** Every slice, filtered by tag, state and a search on its key; with a separated Roll back per slice. */
export function SliceList({ session, revision }: Props) {
  const [slices, setSlices] = useState<SliceCore[] | null>(null);
  // Apart from the rows: their arrival re-renders the rows whose stats they are, and only those
  // rows' own elements change (SliceRowView), instead of every row being built again.
  const [stats, setStats] = useState<ReadonlyMap<string, SliceStats> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const [tag, setTag] = useState('');
  const [state, setState] = useState<SliceState | ''>('');
  const [pending, setPending] = useState<Pending>(null);
  const [creating, setCreating] = useState(false);
  const [watching, setWatching] = useState<RollbackScope | null>(null);

  // The live feed's first event names the revision the list was just loaded at (or an older one):
  // loading 1,000 rows again for it would double the page's work for nothing. So a load is kept
  // even when a revision arrives meanwhile, and the list is loaded again only for a revision above
  // both the one known when the load started and every slice's last change (a change the list may
  // have missed, or one to an unused segment).
  const latest = useRef(revision);
  latest.current = revision;
  const loading = useRef(false);
  const loadedUpTo = useRef(-1);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const load = () => {
    loading.current = true;
    const startedAt = latest.current;
    const failed = (e: unknown) => {
      loading.current = false;
      if (mounted.current) setError(e instanceof ApiError ? e.message : String(e));
    };
    // First every row (cheap: usable at once), then their stats (traffic, followers, last change),
    // asked only once the rows are in: on the embedded engine the service's queries share one
    // connection, and the stats' would hold up the rows'. The first load takes over what boot.ts
    // asked for while the application loaded (null inside: nobody was signed in then).
    const early = takeEarlyList();
    const rows = early === null ? listSlices() : early.rows.then((r) => r ?? listSlices());
    rows.then((cores) => {
      if (!mounted.current) return;
      setSlices(cores);
      setError(null);
      const asked = early === null ? listSliceStats() : early.stats.then((s) => s ?? listSliceStats());
      asked.then((byKey) => {
        loading.current = false;
        if (!mounted.current) return;
        loadedUpTo.current = [...byKey.values()].reduce((max, r) => Math.max(max, r.changedAtRevision), startedAt);
        setStats(byKey);
        if (latest.current > loadedUpTo.current) load();
      }, failed);
    }, failed);
  };
  useEffect(() => {
    if (!loading.current && revision > loadedUpTo.current) load();
  }, [revision]);

  const canRollback = may.rollback(session);
  const askRollback = useCallback((slice: SliceCore) => setPending({ kind: 'rollback', slice }), []);
  const tags = useMemo(() => [...new Set((slices ?? []).flatMap((s) => s.tags))].sort(), [slices]);
  const needle = search.trim().toLowerCase();
  const shown = useMemo(
    () => (slices ?? []).filter((s) => (needle === '' || s.key.toLowerCase().includes(needle)) && (tag === '' || s.tags.includes(tag)) && (state === '' || s.state === state)),
    [slices, needle, tag, state],
  );
  // Only the rows in and near the viewport are in the page (window-rows.ts): a load, a filter
  // typed or cleared, and the stats' arrival cost a screenful of rows, not 1,000.
  const body = useRef<HTMLTableSectionElement>(null);
  const keyOf = useCallback((index: number) => shown[index]!.key, [shown]);
  const rows = useWindowRows(shown.length, keyOf, body, ROW_HEIGHT_ESTIMATE);

  return (
    <section>
      <div class="toolbar">
        <input type="search" placeholder="Search by key" aria-label="Search by key" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        <select aria-label="Tag" value={tag} onChange={(e) => setTag(e.currentTarget.value)}>
          <option value="">All tags</option>
          {tags.map((t) => (
            <option value={t}>{t}</option>
          ))}
        </select>
        <select aria-label="State" value={state} onChange={(e) => setState(e.currentTarget.value as SliceState | '')}>
          <option value="">All states</option>
          <option value="ACTIVE">Active</option>
          <option value="ROLLED_BACK">Rolled back</option>
          <option value="ARCHIVED">Archived</option>
        </select>
        <span class="count">{slices === null ? '' : `${shown.length} of ${slices.length} slices`}</span>
        {may.change(session) && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            New slice
          </button>
        )}
        {may.rollback(session) && tag !== '' && (
          <button type="button" class="danger" onClick={() => setPending({ kind: 'rollbackAll', tag })}>
            Roll back all tagged {tag}
          </button>
        )}
      </div>
      {watching !== null && <RollbackProgress scope={watching} onClose={() => setWatching(null)} />}
      <ErrorLine message={error} />
      {slices === null && error === null && <p class="loading">Loading slices…</p>}
      {slices !== null && (
        // The roles are said explicitly: the table is laid out as a grid (console.css), and some
        // browsers no longer expose a table styled so as a table to screen readers.
        // aria-rowcount and aria-rowindex tell a screen reader where each rendered row stands among
        // all the rows the filter shows (the header row is the first).
        <table class={canRollback ? 'slices with-incident' : 'slices'} role="table" aria-rowcount={shown.length + 1}>
          <thead role="rowgroup">
            <tr role="row" aria-rowindex={1}>
              <th role="columnheader">Key</th>
              <th role="columnheader">State</th>
              <th role="columnheader">Rollout</th>
              <th role="columnheader">Targeting</th>
              <th role="columnheader">Tags</th>
              <th role="columnheader" title="Share of decisions on NEW that SDKs reported in the last 5 minutes">
                NEW seen (5 min)
              </th>
              <th role="columnheader" title="SDK instances (seen in the last hour) that hold a revision older than the slice's last change">
                Followers behind
              </th>
              <th role="columnheader">Last change</th>
              {canRollback && (
                <th role="columnheader" class="rollback-column">
                  Incident
                </th>
              )}
            </tr>
          </thead>
          {/* The rows not rendered are the tbody's padding, so the page scrolls as if they were
              there. The browser's find sees only rendered rows: the search box finds any key. */}
          <tbody role="rowgroup" ref={body} style={{ paddingTop: `${rows.paddingTop}px`, paddingBottom: `${rows.paddingBottom}px` }}>
            {rows.items.map((item) => {
              const s = shown[item.index]!;
              return (
                <SliceRowView
                  key={s.key}
                  index={item.index}
                  measure={rows.measure}
                  slice={s}
                  stats={stats?.get(s.key) ?? null}
                  canRollback={canRollback}
                  onRollback={askRollback}
                />
              );
            })}
          </tbody>
        </table>
      )}
      {pending?.kind === 'rollback' && (
        <ReasonDialog
          title={`Roll back ${pending.slice.key}`}
          summary={`Everyone goes to LEGACY on ${pending.slice.key} (now ${percent(pending.slice.percent)} on NEW). Resume restores the rollout exactly.`}
          confirmLabel="Roll back now"
          danger
          onConfirm={async (reason) => {
            await rollback(pending.slice.key, reason);
            setWatching({ key: pending.slice.key });
          }}
          onClose={() => setPending(null)}
        />
      )}
      {pending?.kind === 'rollbackAll' && (
        <ReasonDialog
          title={`Roll back every slice tagged ${pending.tag}`}
          summary={`Every ACTIVE slice tagged ${pending.tag} goes to LEGACY, in one change.`}
          confirmLabel="Roll back all"
          danger
          onConfirm={async (reason) => {
            await rollbackAll(pending.tag, reason);
            setWatching({ tag: pending.tag });
          }}
          onClose={() => setPending(null)}
        />
      )}
      {creating && <CreateSliceDialog onClose={() => setCreating(false)} />}
    </section>
  );
}

interface CellsProps {
  readonly slice: SliceCore;
  /** Null until the list's stats have arrived (then the cells say …). */
  readonly stats: SliceStats | null;
  readonly canRollback: boolean;
  readonly onRollback: (slice: SliceCore) => void;
}

type RowProps = CellsProps & {
  /** Where the row stands among the rows the filter shows (window-rows.ts reads it as data-index). */
  readonly index: number;
  readonly measure: (element: Element | null) => void;
};

/** A row's height before it is measured (68 px in Chromium at 1280 and 390 px: its cells and the "by actor" line under the last change). */
const ROW_HEIGHT_ESTIMATE = 68;

/**
 * One row of the list. It renders again only when what it shows changed or it moved: the stats'
 * arrival, a dialog opened or the live badge changing do not re-render the rows, and a filter
 * that moves a row re-renders the row, not its cells (a component of their own).
 */
class SliceRowView extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    return next.index !== this.props.index || next.measure !== this.props.measure || cellsChanged(this.props, next);
  }

  override render({ index, measure, ...cells }: RowProps) {
    return (
      <tr data-slice={cells.slice.key} data-index={index} aria-rowindex={index + 2} ref={measure} role="row">
        <SliceCells {...cells} />
      </tr>
    );
  }
}

function cellsChanged(now: CellsProps, next: CellsProps): boolean {
  return next.slice !== now.slice || next.stats !== now.stats || next.canRollback !== now.canRollback || next.onRollback !== now.onRollback;
}

class SliceCells extends Component<CellsProps> {
  override shouldComponentUpdate(next: CellsProps): boolean {
    return cellsChanged(this.props, next);
  }

  override render({ slice: s, stats, canRollback, onRollback }: CellsProps) {
    return (
      <>
        <td role="cell">
          <a href={`#/slices/${encodeURIComponent(s.key)}`}>{s.key}</a>
        </td>
        <td role="cell">
          <span class={`state state-${s.state.toLowerCase()}`}>{s.state.replace('_', ' ')}</span>
        </td>
        <td role="cell">{percent(s.percent)}</td>
        <td role="cell">{targetingSummary(s.targeting)}</td>
        <td role="cell">{s.tags.join(', ')}</td>
        <td role="cell">{stats === null ? '…' : share(stats.traffic.last5Minutes.newShare)}</td>
        <td role="cell" class={stats !== null && stats.behind > 0 ? 'behind' : 'muted'}>
          {stats === null ? '…' : stats.behind}
        </td>
        <td role="cell">
          {when(stats?.lastChange?.recordedAt ?? s.updatedAt)}
          {stats?.lastChange != null && <div class="muted actor">by {stats.lastChange.actor}</div>}
        </td>
        {canRollback && (
          <td role="cell" class="rollback-column">
            {s.state === 'ACTIVE' && (
              <button type="button" class="danger small" onClick={() => onRollback(s)}>
                Roll back…
              </button>
            )}
          </td>
        )}
      </>
    );
  }
}

function CreateSliceDialog({ onClose }: { onClose: () => void }) {
  const [fields, setFields] = useState({ key: '', description: '', owner: '', tags: '', reason: '' });
  const [error, setError] = useState<ApiError | null>(null);
  const set = (name: keyof typeof fields) => (e: Event) => setFields({ ...fields, [name]: (e.currentTarget as HTMLInputElement).value });
  const names = Object.keys(fields);
  const fieldOf = (e: ApiError | null) => names.find((n) => e?.field === n || e?.field?.startsWith(`${n}[`) === true) ?? null;
  const fieldError = (name: string) =>
    error !== null && fieldOf(error) === name ? (
      <span class="field-error" role="alert">
        {error.message}
      </span>
    ) : null;
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const tags = fields.tags
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '');
      await createSlice({ key: fields.key.trim(), description: fields.description, owner: fields.owner, tags, reason: fields.reason });
      location.hash = `#/slices/${encodeURIComponent(fields.key.trim())}`;
      onClose();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), 'INTERNAL'));
    }
  };
  return (
    <dialog open class="reason-dialog" aria-labelledby="create-title">
      <form onSubmit={(e) => void submit(e)}>
        <h2 id="create-title">New slice</h2>
        <p>A new slice starts at 0 % on NEW: everyone on LEGACY until you move it.</p>
        <label>
          Key <input name="key" value={fields.key} onInput={set('key')} required placeholder="payments.provider.mpesa" />
          {fieldError('key')}
        </label>
        <label>
          Description <input name="description" value={fields.description} onInput={set('description')} />
          {fieldError('description')}
        </label>
        <label>
          Owner <input name="owner" value={fields.owner} onInput={set('owner')} />
          {fieldError('owner')}
        </label>
        <label>
          Tags (comma-separated) <input name="tags" value={fields.tags} onInput={set('tags')} />
          {fieldError('tags')}
        </label>
        <label>
          Reason <input name="reason" value={fields.reason} onInput={set('reason')} />
          {fieldError('reason')}
        </label>
        {error !== null && fieldOf(error) === null && (
          <p class="error" role="alert">
            {error.message}
          </p>
        )}
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Create
          </button>
        </div>
      </form>
    </dialog>
  );
}
