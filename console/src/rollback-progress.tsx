import { useEffect, useState } from 'preact/hooks';
import { allNodes, ApiError, graphql, type Page } from './api.js';

interface Progress {
  readonly key: string;
  readonly state: string;
  readonly followers: readonly { appName: string; instanceId: string; status: 'UP_TO_DATE' | 'BEHIND' | 'GONE'; revision: number | null }[];
}

/** Which slices a rollback covered: one key, or every slice with a tag. */
export type RollbackScope = { readonly key: string } | { readonly tag: string };

const FOLLOWERS = 'key state followers(withinMinutes: 60) { appName instanceId status revision }';

async function sliceProgress(key: string): Promise<Progress> {
  return (await graphql<{ slice: Progress }>(`query ConsoleRollbackProgress($key: String!) { slice(key: $key) { ${FOLLOWERS} } }`, { key })).slice;
}

/** Every rolled-back slice with the tag, 200 a page: followers cost about 40 a slice (query-cost.ts), under the cost limit. */
function tagProgress(tag: string): Promise<Progress[]> {
  return allNodes(
    async (after) =>
      (
        await graphql<{ slices: Page<Progress> }>(
          `query ConsoleRollbackAllProgress($tag: String!, $after: String) {
            slices(tag: $tag, state: ROLLED_BACK, first: 200, after: $after) { nodes { ${FOLLOWERS} } pageInfo { hasNextPage endCursor } } }`,
          { tag, after },
        )
      ).slices,
  );
}

/**
 * After a rollback: which services have it and which lag, per slice, refreshed every 2 seconds
 * until closed, so the responder watches the followers catch up without leaving the page.
 */
export function RollbackProgress({ scope, onClose }: { scope: RollbackScope; onClose: () => void }) {
  const [rows, setRows] = useState<Progress[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    const load = async () => {
      try {
        const next = 'key' in scope ? [await sliceProgress(scope.key)] : await tagProgress(scope.tag);
        if (current) {
          setRows(next);
          setError(null);
        }
      } catch (e) {
        if (current) setError(e instanceof ApiError ? e.message : String(e));
      }
    };
    void load();
    const timer = setInterval(() => void load(), 2_000);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, ['key' in scope ? scope.key : `#${scope.tag}`]);

  const all = (rows ?? []).flatMap((r) => r.followers.map((f) => ({ ...f, slice: r.key })));
  const behind = all.filter((f) => f.status === 'BEHIND');
  const upToDate = all.filter((f) => f.status === 'UP_TO_DATE');
  return (
    <aside class="rollback-progress" aria-label="Rollback progress">
      <header>
        <h2>Rollback of {'key' in scope ? scope.key : `every slice tagged ${scope.tag}`}</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      {error !== null && <p class="error">{error}</p>}
      {rows !== null && (
        <p class={behind.length === 0 ? 'ok' : 'warn'} role="status">
          {all.length === 0
            ? 'No SDK reported these slices in the last hour.'
            : behind.length === 0
              ? `All ${upToDate.length} reporting instances have the rollback.`
              : `${upToDate.length} of ${upToDate.length + behind.length} instances have the rollback; ${behind.length} lag.`}
        </p>
      )}
      {all.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Slice</th>
              <th>App</th>
              <th>Instance</th>
              <th>Revision</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {all.map((f) => (
              <tr data-status={f.status}>
                <td>{f.slice}</td>
                <td>{f.appName}</td>
                <td>{f.instanceId}</td>
                <td>{f.revision ?? '—'}</td>
                <td>
                  <span class={`status status-${f.status.toLowerCase()}`}>{f.status.replaceAll('_', ' ')}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </aside>
  );
}
