import { diffValues } from './diff.js';
import { when } from './format.js';
import type { HistoryRow } from './slices-api.js';

interface Props {
  readonly rows: readonly HistoryRow[];
  /**
   * Name the slice or segment each row changed, linked to its page: for history across
   * everything (a slice's own page knows which slice it is).
   */
  readonly showSubject?: boolean;
}

/** History rows, newest first, each with a field-by-field diff of what it changed. */
export function HistoryList({ rows, showSubject = false }: Props) {
  if (rows.length === 0) return <p class="muted">No history.</p>;
  return (
    <ol class="history">
      {rows.map((row) => {
        const changes = diffValues(row.before ?? {}, row.after ?? {});
        return (
          <li key={row.position} data-position={row.position}>
            <div class="history-head">
              <strong>{row.action}</strong>
              {showSubject && <Subject row={row} />} by <span class="actor">{row.actor}</span> · {when(row.recordedAt)} · #{row.position}
              {row.requestId !== null && <span class="muted"> · request {row.requestId}</span>}
            </div>
            {row.reason !== null && row.reason !== '' && <div class="reason">“{row.reason}”</div>}
            {changes.length > 0 && (
              <table class="diff">
                <tbody>
                  {changes.map((c) => (
                    <tr>
                      <td class="path">{c.path}</td>
                      <td class="before">{c.before}</td>
                      <td class="arrow">→</td>
                      <td class="after">{c.after}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </li>
        );
      })}
    </ol>
  );
}

/** The slice or segment a row changed, linked; nothing for global actions (tokens, rollbackAll). */
function Subject({ row }: { row: HistoryRow }) {
  if (row.sliceKey !== null) {
    return (
      <>
        {' '}
        on slice{' '}
        <a class="subject" href={`#/slices/${encodeURIComponent(row.sliceKey)}`}>
          {row.sliceKey}
        </a>
      </>
    );
  }
  if (row.segmentKey !== null) {
    return (
      <>
        {' '}
        on segment{' '}
        <a class="subject" href={`#/segments/${encodeURIComponent(row.segmentKey)}`}>
          {row.segmentKey}
        </a>
      </>
    );
  }
  return null;
}
