import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { exportHistory, type HistoryVerification, listHistory, verifyHistory } from './history-api.js';
import { HistoryList } from './history-list.js';
import type { HistoryRow } from './slices-api.js';
import { ErrorLine } from './error-line.js';

interface Props {
  /** Moves with every configuration change the live feed sees: new rows appear at the top. */
  readonly revision: number;
}

function message(e: unknown): string {
  return e instanceof ApiError ? `${e.message} (${e.errorCode ?? e.code})` : String(e);
}

/**
 * For auditors: every change, newest first, a page at a time; whether the chain verifies (the
 * service's verifyHistory); and the chain as a file for offline verification, in the CLI's format.
 */
export function HistoryPage({ revision }: Props) {
  return (
    <section class="history-page">
      <h1>History</h1>
      <Verification />
      <Changes revision={revision} />
    </section>
  );
}

function Changes({ revision }: Props) {
  const [rows, setRows] = useState<HistoryRow[] | null>(null);
  const [cursor, setCursor] = useState<{ endCursor: string | null; hasNextPage: boolean }>({ endCursor: null, hasNextPage: false });
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  // The newest position shown, read by the live refresh without re-running it when rows change.
  const newest = useRef<bigint | null>(null);

  // First load, and on every change: the newest page. Its rows newer than those shown go on top;
  // when more arrived than a page holds, the list starts over from the newest (no gap is ever shown).
  useEffect(() => {
    let current = true;
    listHistory(null).then(
      (page) => {
        if (!current) return;
        setError(null);
        const top = page.rows[0] === undefined ? null : BigInt(page.rows[0].position);
        const oldestFetched = page.rows.at(-1);
        if (newest.current === null || oldestFetched === undefined || BigInt(oldestFetched.position) > newest.current + 1n) {
          setRows(page.rows);
          setCursor(page);
        } else {
          const seen = newest.current;
          setRows((shown) => [...page.rows.filter((r) => BigInt(r.position) > seen), ...(shown ?? [])]);
        }
        if (top !== null) newest.current = top;
      },
      (e: unknown) => current && setError(message(e)),
    );
    return () => {
      current = false;
    };
  }, [revision]);

  const loadMore = async () => {
    setLoading(true);
    try {
      const page = await listHistory(cursor.endCursor);
      setRows((shown) => [...(shown ?? []), ...page.rows]);
      setCursor(page);
      setError(null);
    } catch (e) {
      setError(message(e));
    } finally {
      setLoading(false);
    }
  };

  return (
    <>
      <h2>
        Changes <span class="count">{rows === null ? '' : `${rows.length} shown, newest first`}</span>
      </h2>
      <ErrorLine message={error} />
      {rows === null ? error === null && <p class="loading">Loading history…</p> : <HistoryList rows={rows} showSubject />}
      {rows !== null && cursor.hasNextPage && (
        <button type="button" onClick={() => void loadMore()} disabled={loading}>
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </>
  );
}

function Verification() {
  const [result, setResult] = useState<HistoryVerification | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [exporting, setExporting] = useState<string | null>(null);

  const verify = async () => {
    setVerifying(true);
    setError(null);
    try {
      setResult(await verifyHistory());
    } catch (e) {
      setError(message(e));
    } finally {
      setVerifying(false);
    }
  };
  useEffect(() => {
    void verify();
  }, []);

  const download = async () => {
    setExporting('Exporting…');
    setError(null);
    try {
      const exported = await exportHistory((rows) => setExporting(`Exporting… ${rows} rows`));
      // A download from memory: the same document the CLI's `history export` writes, no endpoint of its own.
      const url = URL.createObjectURL(new Blob([exported.text], { type: 'application/x-ndjson' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = `switchyard-history-${new Date()
        .toISOString()
        .replaceAll(':', '-')
        .replace(/\.\d+Z$/, 'Z')}.ndjson`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setExporting(null);
    } catch (e) {
      setExporting(null);
      setError(message(e));
    }
  };

  return (
    <div class="verification" data-verdict={result?.verdict ?? ''}>
      <h2>
        Chain{' '}
        {result !== null && (
          <span class={`verdict ${result.ok ? 'verdict-ok' : 'verdict-broken'}`} role="status">
            {result.ok ? 'Verified' : 'BROKEN'}: {result.verdict.replaceAll('_', ' ')}
          </span>
        )}
      </h2>
      {result === null && error === null && <p class="loading">Verifying the chain…</p>}
      {result !== null && (
        <dl class="facts">
          <dt>Checked rows</dt>
          <dd class="checked-rows">{result.checkedRows}</dd>
          <dt>Head position</dt>
          <dd class="head-position">{result.headPosition}</dd>
          <dt>Head hash</dt>
          <dd class="hash">{result.headHash}</dd>
          <dt>Checkpoint</dt>
          <dd class="checkpoint-position">
            {result.checkpointPosition === null ? 'none checked (no checkpoint signed by this service’s key yet)' : `position ${result.checkpointPosition} holds`}
          </dd>
          {result.firstBrokenPosition !== null && (
            <>
              <dt>First broken position</dt>
              <dd class="error first-broken">{result.firstBrokenPosition}</dd>
            </>
          )}
        </dl>
      )}
      <p class="muted">
        The service verifies its own chain here against the newest checkpoint it holds. For proof that does not trust the service, export the chain and run{' '}
        <code>switchyard verify-history --file</code> against checkpoints published elsewhere (docs/history.md).
      </p>
      <ErrorLine message={error} />
      <div class="actions">
        <button type="button" onClick={() => void verify()} disabled={verifying}>
          {verifying ? 'Verifying…' : 'Verify again'}
        </button>
        <button type="button" class="primary" onClick={() => void download()} disabled={exporting !== null}>
          {exporting ?? 'Export'}
        </button>
      </div>
    </div>
  );
}
