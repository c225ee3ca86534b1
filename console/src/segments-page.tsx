import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { FieldErrors } from './field-errors.js';
import { when } from './format.js';
import { type Constraint, createSegment, listSegments, loadSegment, OPERATORS, type Operator, type Segment, singleValued, updateSegment } from './segments-api.js';
import { may, type Session } from './session.js';
import { ErrorLine } from './error-line.js';

interface Props {
  readonly session: Session;
  readonly revision: number;
}

/** Every segment, with the slices that use it. */
export function SegmentList({ session, revision }: Props) {
  const [segments, setSegments] = useState<Segment[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    listSegments().then(
      (rows) => current && (setSegments(rows), setError(null)),
      (e: unknown) => current && setError(e instanceof ApiError ? e.message : String(e)),
    );
    return () => {
      current = false;
    };
  }, [revision]);
  return (
    <section>
      <div class="toolbar">
        <h1>Segments</h1>
        <span class="count">{segments === null ? '' : `${segments.length} segments`}</span>
        {may.change(session) && (
          <a class="button primary" href="#/new-segment">
            New segment
          </a>
        )}
      </div>
      {error !== null && <p class="error">{error}</p>}
      {segments !== null && (
        <table>
          <thead>
            <tr>
              <th>Key</th>
              <th>Description</th>
              <th>Constraints</th>
              <th>Used by</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {segments.map((s) => (
              <tr data-segment={s.key}>
                <td>
                  <a href={`#/segments/${encodeURIComponent(s.key)}`}>{s.key}</a>
                </td>
                <td>{s.description}</td>
                <td>{s.constraints.map(describeConstraint).join(' AND ')}</td>
                <td>{s.usedBy.join(', ') || '—'}</td>
                <td>{when(s.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function describeConstraint(c: Constraint): string {
  const values = c.values.length > 5 ? `${c.values.slice(0, 5).join(', ')} … (${c.values.length})` : c.values.join(', ');
  return `${c.attribute} ${c.inverted ? 'NOT ' : ''}${c.operator}${c.caseInsensitive ? ' (any case)' : ''} ${values}`;
}

const EMPTY: Constraint = { attribute: '', operator: 'IN', values: [], inverted: false, caseInsensitive: false };

/** Creates a segment (`key` null) or edits one: constraints with every operator, errors next to their field. */
export function SegmentEditor({ session, segmentKey, revision }: Props & { segmentKey: string | null }) {
  const [loaded, setLoaded] = useState<Segment | null>(null);
  const [key, setKey] = useState('');
  const [description, setDescription] = useState('');
  const [constraints, setConstraints] = useState<Constraint[]>([{ ...EMPTY }]);
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState(FieldErrors.none());
  const [saved, setSaved] = useState(false);
  const [dirty, setDirty] = useState(false);

  useEffect(() => {
    if (segmentKey === null) return;
    let current = true;
    loadSegment(segmentKey).then(
      (segment) => {
        if (!current) return;
        setLoaded(segment);
        // A change elsewhere reloads the form, unless someone is typing in it: then saving says there was a conflict.
        if (!dirty) {
          setDescription(segment.description);
          setConstraints(segment.constraints.map((c) => ({ ...c, values: [...c.values] })));
        }
      },
      (e: unknown) => current && setErrors(FieldErrors.of(e, [])),
    );
    return () => {
      current = false;
    };
  }, [segmentKey, revision]);

  const readOnly = !may.change(session);
  const edit = (i: number, patch: Partial<Constraint>) => {
    setDirty(true);
    setSaved(false);
    setConstraints(constraints.map((c, j) => (j === i ? { ...c, ...patch } : c)));
  };
  const known = ['key', 'description', 'reason', 'constraints', ...constraints.map((_, i) => `constraints[${i}]`)];
  const submit = async (event: Event) => {
    event.preventDefault();
    setErrors(FieldErrors.none());
    try {
      // A blank line in a list of values is a typing artefact, not a value.
      const sent = constraints.map((c) => ({ ...c, values: singleValued(c.operator) ? c.values : c.values.filter((v) => v !== '') }));
      if (segmentKey === null) {
        await createSegment({ key: key.trim(), description, constraints: sent, reason });
        location.hash = `#/segments/${encodeURIComponent(key.trim())}`;
      } else {
        await updateSegment({ key: segmentKey, description, constraints: sent, reason, expectedVersion: loaded?.version ?? 0 });
        setSaved(true);
        setDirty(false);
        setReason('');
      }
    } catch (e) {
      setErrors(FieldErrors.of(e, known));
    }
  };
  const fieldError = (path: string) => {
    const message = errors.at(path);
    return message === null ? null : (
      <span class="field-error" role="alert" data-field={path}>
        {message}
      </span>
    );
  };
  return (
    <section>
      <p>
        <a href="#/segments">← All segments</a>
      </p>
      <form class="segment-editor" onSubmit={(e) => void submit(e)} noValidate>
        <h1>{segmentKey ?? 'New segment'}</h1>
        {loaded !== null && (
          <p class="muted">
            Version {loaded.version} · used by {loaded.usedBy.join(', ') || 'no slice'} · a change takes effect at once in every slice using it
          </p>
        )}
        {segmentKey === null && (
          <label>
            Key
            <input name="segment-key" value={key} onInput={(e) => setKey(e.currentTarget.value)} disabled={readOnly} />
            {fieldError('key')}
          </label>
        )}
        <label>
          Description
          <input name="description" value={description} onInput={(e) => (setDescription(e.currentTarget.value), setDirty(true))} disabled={readOnly} />
          {fieldError('description')}
        </label>
        <h2>Constraints (all must hold)</h2>
        {fieldError('constraints')}
        {constraints.map((c, i) => (
          <fieldset class="constraint" data-constraint={i}>
            <input
              aria-label={`Attribute ${i + 1}`}
              placeholder="attribute (country, userId…)"
              value={c.attribute}
              onInput={(e) => edit(i, { attribute: e.currentTarget.value })}
              disabled={readOnly}
            />
            <label class="inline">
              <input type="checkbox" checked={c.inverted} onChange={(e) => edit(i, { inverted: e.currentTarget.checked })} disabled={readOnly} /> NOT
            </label>
            <select aria-label={`Operator ${i + 1}`} value={c.operator} onChange={(e) => edit(i, { operator: e.currentTarget.value as Operator })} disabled={readOnly}>
              {OPERATORS.map((op) => (
                <option value={op}>{op}</option>
              ))}
            </select>
            {singleValued(c.operator) ? (
              <input aria-label={`Value ${i + 1}`} value={c.values[0] ?? ''} onInput={(e) => edit(i, { values: [e.currentTarget.value] })} disabled={readOnly} />
            ) : (
              <textarea
                aria-label={`Values ${i + 1} (one per line)`}
                rows={Math.min(6, Math.max(2, c.values.length))}
                value={c.values.join('\n')}
                onInput={(e) => edit(i, { values: e.currentTarget.value.split('\n') })}
                disabled={readOnly}
              />
            )}
            <label class="inline">
              <input type="checkbox" checked={c.caseInsensitive} onChange={(e) => edit(i, { caseInsensitive: e.currentTarget.checked })} disabled={readOnly} /> any case
            </label>
            {!readOnly && (
              <button type="button" class="small" onClick={() => (setConstraints(constraints.filter((_, j) => j !== i)), setDirty(true))}>
                Remove
              </button>
            )}
            {fieldError(`constraints[${i}]`)}
          </fieldset>
        ))}
        {!readOnly && (
          <>
            <button type="button" onClick={() => (setConstraints([...constraints, { ...EMPTY }]), setDirty(true))}>
              Add constraint
            </button>
            <label>
              Reason
              <input name="reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
              {fieldError('reason')}
            </label>
            <button type="submit" class="primary">
              {segmentKey === null ? 'Create segment' : 'Save'}
            </button>
          </>
        )}
        <ErrorLine message={errors.general()} />
        {saved && (
          <p class="ok" role="status">
            Saved.
          </p>
        )}
      </form>
    </section>
  );
}
