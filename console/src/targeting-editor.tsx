import { useEffect, useState } from 'preact/hooks';
import { graphql, idempotencyKey } from './api.js';
import { FieldErrors } from './field-errors.js';
import { listSegments } from './segments-api.js';
import type { SliceDetail } from './slices-api.js';
import { ErrorLine } from './error-line.js';

interface Rule {
  segments: string[];
  percent: string;
}

/**
 * Include, exclude and ordered rules, replaced as a whole (setTargeting) with the version shown,
 * so that a change made meanwhile is refused, not overwritten. Rules are reordered by dragging
 * (or with the arrow buttons, for keyboards): the first rule whose segments all match decides.
 */
export function TargetingEditor({ slice }: { slice: SliceDetail }) {
  const [segmentKeys, setSegmentKeys] = useState<string[]>([]);
  const [include, setInclude] = useState<string[]>([...slice.targeting.include]);
  const [exclude, setExclude] = useState<string[]>([...slice.targeting.exclude]);
  const [rules, setRules] = useState<Rule[]>(slice.targeting.rules.map((r) => ({ segments: [...r.segments], percent: String(r.percent) })));
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState(FieldErrors.none());
  const [saved, setSaved] = useState(false);
  const [dragged, setDragged] = useState<number | null>(null);
  // The version the form shows. A change elsewhere reloads an untouched form; once someone edits,
  // it stays, and saving sends the version they started from: the service refuses it if it moved.
  const [baseVersion, setBaseVersion] = useState(slice.version);
  const [dirty, setDirty] = useState(false);
  useEffect(() => {
    if (dirty || slice.version === baseVersion) return;
    setInclude([...slice.targeting.include]);
    setExclude([...slice.targeting.exclude]);
    setRules(slice.targeting.rules.map((r) => ({ segments: [...r.segments], percent: String(r.percent) })));
    setBaseVersion(slice.version);
  }, [slice.version]);
  useEffect(() => {
    listSegments().then(
      (segments) => setSegmentKeys(segments.map((s) => s.key)),
      () => setSegmentKeys([]),
    );
  }, []);

  const move = (from: number, to: number) => {
    if (to < 0 || to >= rules.length || from === to) return;
    const next = [...rules];
    const [rule] = next.splice(from, 1);
    next.splice(to, 0, rule!);
    changeRules(next);
  };
  const changeRules = (next: Rule[]) => {
    setRules(next);
    setDirty(true);
    setSaved(false);
  };
  const known = ['include', 'exclude', 'rules', 'reason', ...rules.flatMap((_, i) => [`rules[${i}]`, `rules[${i}].percent`, `rules[${i}].segments`])];
  const submit = async (event: Event) => {
    event.preventDefault();
    setErrors(FieldErrors.none());
    setSaved(false);
    try {
      await graphql(
        `
          mutation ConsoleSetTargeting($key: String!, $include: [String!]!, $exclude: [String!]!, $rules: [RuleInput!]!, $reason: String, $v: Int, $idem: String) {
            setTargeting(key: $key, include: $include, exclude: $exclude, rules: $rules, reason: $reason, expectedVersion: $v, idempotencyKey: $idem) {
              key
            }
          }
        `,
        {
          key: slice.key,
          include,
          exclude,
          rules: rules.map((r) => ({ segments: r.segments, percent: r.percent.trim() === '' ? Number.NaN : Number(r.percent) })),
          reason,
          v: baseVersion,
          idem: idempotencyKey(),
        },
      );
      setSaved(true);
      setReason('');
      setDirty(false);
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
  const picker = (label: string, chosen: string[], set: (keys: string[]) => void) => (
    <select
      multiple
      aria-label={label}
      size={Math.min(5, Math.max(2, segmentKeys.length))}
      onChange={(e) => (set([...e.currentTarget.selectedOptions].map((o) => o.value)), setDirty(true), setSaved(false))}
    >
      {segmentKeys.map((k) => (
        <option value={k} selected={chosen.includes(k)}>
          {k}
        </option>
      ))}
    </select>
  );
  return (
    <form class="targeting-editor" onSubmit={(e) => void submit(e)} noValidate>
      <h2>Targeting</h2>
      <p class="muted">Order of decision: rolled back → exclude → include → the first matching rule → the rollout.</p>
      <label>
        Exclude (always LEGACY)
        {picker('Exclude segments', exclude, setExclude)}
        {fieldError('exclude')}
      </label>
      <label>
        Include (always NEW)
        {picker('Include segments', include, setInclude)}
        {fieldError('include')}
      </label>
      <h3>Rules, in order</h3>
      {fieldError('rules')}
      <ol class="rules">
        {rules.map((rule, i) => (
          <li
            key={i}
            data-rule={i}
            draggable
            class={dragged === i ? 'dragging' : ''}
            onDragStart={(e) => (setDragged(i), e.dataTransfer?.setData('text/plain', String(i)))}
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => {
              e.preventDefault();
              const from = Number(e.dataTransfer?.getData('text/plain') ?? dragged);
              if (Number.isInteger(from)) move(from, i);
              setDragged(null);
            }}
            onDragEnd={() => setDragged(null)}
          >
            <span class="handle" aria-hidden="true">
              ⠿
            </span>
            <select
              multiple
              aria-label={`Rule ${i + 1} segments`}
              size={Math.min(4, Math.max(2, segmentKeys.length))}
              onChange={(e) => changeRules(rules.map((r, j) => (j === i ? { ...r, segments: [...e.currentTarget.selectedOptions].map((o) => o.value) } : r)))}
            >
              {segmentKeys.map((k) => (
                <option value={k} selected={rule.segments.includes(k)}>
                  {k}
                </option>
              ))}
            </select>
            <label class="inline">
              <input
                aria-label={`Rule ${i + 1} percent`}
                type="number"
                step="0.01"
                value={rule.percent}
                onInput={(e) => changeRules(rules.map((r, j) => (j === i ? { ...r, percent: e.currentTarget.value } : r)))}
              />{' '}
              % on NEW
            </label>
            <button type="button" class="small" aria-label={`Move rule ${i + 1} up`} onClick={() => move(i, i - 1)} disabled={i === 0}>
              ↑
            </button>
            <button type="button" class="small" aria-label={`Move rule ${i + 1} down`} onClick={() => move(i, i + 1)} disabled={i === rules.length - 1}>
              ↓
            </button>
            <button type="button" class="small" onClick={() => changeRules(rules.filter((_, j) => j !== i))}>
              Remove
            </button>
            {fieldError(`rules[${i}].percent`)}
            {fieldError(`rules[${i}].segments`)}
            {fieldError(`rules[${i}]`)}
          </li>
        ))}
      </ol>
      <button type="button" onClick={() => changeRules([...rules, { segments: [], percent: '0' }])}>
        Add rule
      </button>
      <label>
        Reason
        <input name="targeting-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        {fieldError('reason')}
      </label>
      <button type="submit" class="primary">
        Save targeting
      </button>
      <ErrorLine message={errors.general()} />
      {saved && (
        <p class="ok" role="status">
          Targeting saved.
        </p>
      )}
    </form>
  );
}

/** "Why is this subject on LEGACY?": the service's own `evaluate` for a context typed in. */
export function EvaluatePanel({ sliceKey }: { sliceKey: string }) {
  const [context, setContext] = useState('{"userId": "42"}');
  const [answer, setAnswer] = useState<{ path: string; reason: string; ruleIndex: number | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setAnswer(null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(context);
    } catch {
      setError('The context must be a JSON object, such as {"userId": "42", "country": "KE"}.');
      return;
    }
    try {
      const data = await graphql<{ evaluate: { path: string; reason: string; ruleIndex: number | null } }>(
        `
          query ConsoleEvaluate($key: String!, $context: Context!) {
            evaluate(sliceKey: $key, context: $context) {
              path
              reason
              ruleIndex
            }
          }
        `,
        { key: sliceKey, context: parsed },
      );
      setAnswer(data.evaluate);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <form class="evaluate" onSubmit={(e) => void submit(e)}>
      <h2>Explain a decision</h2>
      <label>
        Context (JSON)
        <input name="context" value={context} onInput={(e) => setContext(e.currentTarget.value)} />
      </label>
      <button type="submit">Evaluate</button>
      {answer !== null && (
        <p class="decision" role="status">
          <strong>{answer.path}</strong>: {answer.reason}
          {answer.ruleIndex !== null && ` (rule ${answer.ruleIndex + 1})`}
        </p>
      )}
      <ErrorLine message={error} />
    </form>
  );
}
