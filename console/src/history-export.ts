/**
 * The history export's lines, as src/history/history-export.ts writes them for the CLI
 * (docs/history.md, "Export format"). The console is compiled apart from the service and cannot
 * import that module; test/browser/console-audit.browser.spec.ts checks that a download from the
 * console is the CLI's export line for line (the header's exportedAt aside) and verifies offline:
 * if you change one, change both.
 */

/** A row of the chain as historyChain returns it: every field the hash covers, and the hash. */
export interface ChainRow {
  readonly position: string;
  readonly scheme: number;
  readonly sequence: string;
  readonly sliceKey: string | null;
  readonly segmentKey: string | null;
  readonly action: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly actor: string;
  readonly reason: string | null;
  readonly idempotencyKey: string | null;
  readonly requestId: string | null;
  readonly recordedAt: string;
  readonly prevHash: string;
  readonly hash: string;
}

export function exportHeaderLine(header: { fromPosition: string; toPosition: string | null; exportedAt: string }): string {
  return JSON.stringify({ type: 'header', format: 'switchyard-history-export', version: 1, ...header });
}

/** One row, its members in the CLI's fixed order (members other than the row's fields, like `type`, are not hashed). */
export function exportRowLine(row: ChainRow): string {
  const { position, scheme, sequence, sliceKey, segmentKey, action, before, after, actor, reason, idempotencyKey, requestId, recordedAt, prevHash, hash } = row;
  return JSON.stringify({
    type: 'row',
    position,
    scheme,
    sequence,
    sliceKey,
    segmentKey,
    action,
    before,
    after,
    actor,
    reason,
    idempotencyKey,
    requestId,
    recordedAt,
    prevHash,
    hash,
  });
}
