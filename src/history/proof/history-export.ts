import type { KeyObject } from 'node:crypto';
import { type ChainVerdict, ChainVerifier, type HashedRow, POSITION_PATTERN } from './hash-chain.js';
import { checkpointProblems, type HistoryCheckpoint, verifyCheckpoint } from './history-checkpoint.js';

/**
 * The history export: NDJSON, a header line then one line per row in position order. Pure
 * (node:crypto only, through its imports); written by `switchyard history export`, read by
 * `switchyard verify-history --file` and by docs/verify_history.py. docs/history.md specifies it:
 * change them together.
 */
export const EXPORT_FORMAT = 'switchyard-history-export';
export const EXPORT_VERSION = 1;

export interface ExportHeader {
  readonly type: 'header';
  readonly format: typeof EXPORT_FORMAT;
  readonly version: typeof EXPORT_VERSION;
  /** The first position exported (1: from genesis). */
  readonly fromPosition: string;
  /** The last position asked for; null: up to the head at export time. */
  readonly toPosition: string | null;
  readonly exportedAt: string;
}

export function exportHeaderLine(header: Omit<ExportHeader, 'type' | 'format' | 'version'>): string {
  return JSON.stringify({ type: 'header', format: EXPORT_FORMAT, version: EXPORT_VERSION, ...header });
}

/** One row, every field the hash covers plus the hash, in a fixed order. */
export function exportRowLine(row: HashedRow): string {
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

const TEXT_FIELDS = ['sequence', 'action', 'actor', 'recordedAt', 'prevHash', 'hash'] as const;
const NULLABLE_TEXT_FIELDS = ['sliceKey', 'segmentKey', 'reason', 'idempotencyKey', 'requestId'] as const;

/** A parsed row line, or why it is not one. */
function parseRow(value: unknown): HashedRow | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const v = value as Record<string, unknown>;
  if (v.type !== 'row') return 'type is not "row"';
  if (typeof v.position !== 'string' || !POSITION_PATTERN.test(v.position)) return 'position is not a decimal string';
  if (typeof v.scheme !== 'number' || !Number.isInteger(v.scheme)) return 'scheme is not an integer';
  for (const f of TEXT_FIELDS) if (typeof v[f] !== 'string') return `${f} is not a string`;
  for (const f of NULLABLE_TEXT_FIELDS) if (v[f] !== null && typeof v[f] !== 'string') return `${f} is neither a string nor null`;
  if (!('before' in v) || !('after' in v)) return 'before or after is missing';
  return v as unknown as HashedRow;
}

/** What offline verification found: the chain's verdict, and the export line it stopped at. */
export interface ExportVerdict extends ChainVerdict {
  /** The 1-based line of the export where verification stopped (MALFORMED, MISMATCH_AT_POSITION...); null otherwise. */
  readonly line: number | null;
  /** Why the line was malformed. */
  readonly problem: string | null;
  readonly checkpoints: number;
}

/**
 * Verifies an export line by line (constant memory besides the checkpoints) against checkpoints
 * and the public key that must have signed them. Every checkpoint's signature is checked before
 * any row is read.
 */
export class ExportVerifier {
  private chain: ChainVerifier | null = null;
  private header: ExportHeader | null = null;
  private stoppedAt: { line: number | null; problem: string | null } | null = null;
  private signatureVerdict: 'WRONG_KEY' | 'BAD_SIGNATURE' | null = null;
  private lastLine = 0;

  constructor(
    private readonly checkpoints: readonly HistoryCheckpoint[],
    publicKey: KeyObject,
  ) {
    for (const checkpoint of checkpoints) {
      if (checkpointProblems(checkpoint).length > 0) throw new TypeError('not a checkpoint: check it with checkpointProblems first');
      const verdict = verifyCheckpoint(checkpoint, publicKey);
      if (verdict !== 'OK') {
        this.signatureVerdict = verdict;
        break;
      }
    }
  }

  /** Feeds the next line (1-based `lineNumber`). Returns false once verification has stopped. */
  accept(line: string, lineNumber: number): boolean {
    if (this.signatureVerdict !== null || this.stoppedAt !== null) return false;
    this.lastLine = lineNumber;
    if (line.trim() === '') return true;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return this.malformed(lineNumber, 'not JSON');
    }
    if (this.header === null) {
      const header = parseHeader(value);
      if (typeof header === 'string') return this.malformed(lineNumber, header);
      this.header = header;
      this.chain = new ChainVerifier({ fromPosition: header.fromPosition, checkpoints: this.checkpoints });
      // A checkpoint before the range (and not right before it): judged before any row, at no line.
      if (this.chain.stopped) {
        this.stoppedAt = { line: null, problem: null };
        return false;
      }
      return true;
    }
    const row = parseRow(value);
    if (typeof row === 'string') return this.malformed(lineNumber, row);
    if (this.header.toPosition !== null && BigInt(row.position) > BigInt(this.header.toPosition)) {
      return this.malformed(lineNumber, 'a row beyond the header’s toPosition');
    }
    if (!this.chain!.accept(row)) {
      this.stoppedAt = { line: lineNumber, problem: null };
      return false;
    }
    return true;
  }

  verdict(): ExportVerdict {
    const chain = this.chain ?? new ChainVerifier({ checkpoints: this.checkpoints });
    if (this.signatureVerdict !== null) chain.reject(this.signatureVerdict);
    else if (this.header === null && this.stoppedAt === null) this.malformed(this.lastLine + 1, 'no header line');
    if (this.stoppedAt?.problem) chain.reject('MALFORMED');
    const verdict = chain.verdict({ fedUpTo: this.header?.toPosition ?? null });
    return {
      ...verdict,
      line: verdict.ok ? null : (this.stoppedAt?.line ?? null),
      problem: this.stoppedAt?.problem ?? null,
      checkpoints: this.checkpoints.length,
    };
  }

  private malformed(line: number, problem: string): false {
    this.stoppedAt = { line, problem };
    return false;
  }
}

function parseHeader(value: unknown): ExportHeader | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the first line is not a header object';
  const v = value as Record<string, unknown>;
  if (v.type !== 'header' || v.format !== EXPORT_FORMAT) return `the first line is not a ${EXPORT_FORMAT} header`;
  if (v.version !== EXPORT_VERSION) return `export version ${String(v.version)} is not supported (this verifier reads ${EXPORT_VERSION})`;
  if (typeof v.fromPosition !== 'string' || !POSITION_PATTERN.test(v.fromPosition)) return 'fromPosition is not a decimal string';
  if (v.toPosition !== null && (typeof v.toPosition !== 'string' || !POSITION_PATTERN.test(v.toPosition))) return 'toPosition is neither a decimal string nor null';
  return v as unknown as ExportHeader;
}
