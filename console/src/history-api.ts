import { graphql } from './api.js';
import { exportHeaderLine, exportRowLine, type ChainRow } from './history-export.js';
import type { HistoryRow } from './slices-api.js';

const HISTORY_FIELDS = 'position action actor reason requestId recordedAt sliceKey segmentKey before after';

export interface HistoryPage {
  readonly rows: HistoryRow[];
  readonly endCursor: string | null;
  readonly hasNextPage: boolean;
}

/** A page of every change (slices, segments, tokens, rollbackAll), newest first. */
export async function listHistory(after: string | null, first = 50): Promise<HistoryPage> {
  const data = await graphql<{ history: { nodes: HistoryRow[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
    `query ConsoleHistory($after: String, $first: Int!) { history(first: $first, after: $after) { nodes { ${HISTORY_FIELDS} } pageInfo { hasNextPage endCursor } } }`,
    { after, first },
  );
  return { rows: data.history.nodes, endCursor: data.history.pageInfo.endCursor, hasNextPage: data.history.pageInfo.hasNextPage };
}

export type HistoryVerdict = 'OK' | 'MISMATCH_AT_POSITION' | 'TRUNCATED' | 'CHECKPOINT_MISMATCH' | 'BAD_SIGNATURE' | 'WRONG_KEY' | 'CHECKPOINT_OUT_OF_RANGE' | 'MALFORMED';

export interface HistoryVerification {
  readonly ok: boolean;
  readonly verdict: HistoryVerdict;
  readonly checkedRows: number;
  readonly headPosition: string;
  readonly headHash: string;
  readonly checkpointPosition: string | null;
  readonly firstBrokenPosition: string | null;
}

/**
 * The service's own check of the whole chain against the newest checkpoint it holds: a full scan
 * (cost 1,000, once per request), so the page runs it when opened and on demand, not on every change.
 */
export async function verifyHistory(): Promise<HistoryVerification> {
  const data = await graphql<{ verifyHistory: HistoryVerification }>(
    'query ConsoleVerifyHistory { verifyHistory { ok verdict checkedRows headPosition headHash checkpointPosition firstBrokenPosition } }',
  );
  return data.verifyHistory;
}

/** The API's largest page, as the CLI's export uses. */
const CHAIN_PAGE = 500;

const CHAIN = `query ConsoleHistoryChain($from: String!, $first: Int!) {
  historyChain(fromPosition: $from, first: $first) {
    position scheme sequence sliceKey segmentKey action before after actor reason idempotencyKey requestId recordedAt prevHash hash
  }
}`;

/**
 * The whole chain as `switchyard history export` writes it (docs/history.md, "Export format"):
 * a header line, then every row in position order, up to the head the last page sees. The same
 * pages the CLI reads, so `switchyard verify-history --file` checks the result offline.
 */
export async function exportHistory(onProgress: (rows: number) => void = () => {}): Promise<{ text: string; rows: number; lastPosition: string | null }> {
  const lines = [exportHeaderLine({ fromPosition: '1', toPosition: null, exportedAt: new Date().toISOString() })];
  let next = 1n;
  let last: string | null = null;
  for (;;) {
    const { historyChain: page } = await graphql<{ historyChain: ChainRow[] }>(CHAIN, { from: next.toString(), first: CHAIN_PAGE });
    for (const row of page) lines.push(exportRowLine(row));
    last = page.at(-1)?.position ?? last;
    onProgress(lines.length - 1);
    if (page.length < CHAIN_PAGE || last === null) break;
    next = BigInt(last) + 1n;
  }
  return { text: `${lines.join('\n')}\n`, rows: lines.length - 1, lastPosition: last };
}
