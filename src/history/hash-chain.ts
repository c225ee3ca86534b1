import { createHash } from 'node:crypto';

/** The `prev_hash` of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields a row's hash covers: all of them but the hash itself. */
export interface ChainedRow {
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
  /** ISO 8601 with milliseconds, as stored (timestamptz keeps microseconds; we write ms). */
  readonly recordedAt: string;
  readonly prevHash: string;
}

/**
 * SHA-256 over the previous hash and a canonical encoding of the row.
 *
 * The encoding is JSON with object keys sorted at every level and no white space, so that it is
 * the same whether computed from the object we are about to insert or from the JSONB that
 * PostgreSQL hands back (which reorders keys). If you change this, every existing chain stops
 * verifying: add a versioned scheme instead.
 */
export function chainHash(row: ChainedRow): string {
  return createHash('sha256').update(row.prevHash).update('\n').update(canonicalJson(row)).digest('hex');
}

/** Deterministic JSON: sorted keys; `undefined` members dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const encoded = JSON.stringify(value);
    return encoded === undefined ? 'null' : encoded;
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/** What verification found: `firstBrokenSequence` is the first row whose hash or link is wrong. */
export interface ChainVerdict {
  readonly ok: boolean;
  readonly checkedRows: number;
  readonly firstBrokenSequence: string | null;
  readonly headHash: string;
}

/**
 * Walks rows in sequence order, recomputing each hash and checking each link.
 * Feed it pages in order; it keeps only the last hash between pages.
 */
export class ChainVerifier {
  private prevHash = GENESIS_HASH;
  private checked = 0;
  private broken: string | null = null;

  /** Returns false once a break is found (no need to read further). */
  accept(row: ChainedRow & { readonly hash: string }): boolean {
    if (this.broken !== null) return false;
    this.checked++;
    const { hash, ...chained } = row;
    if (row.prevHash !== this.prevHash || chainHash(chained) !== hash) {
      this.broken = row.sequence;
      return false;
    }
    this.prevHash = row.hash;
    return true;
  }

  verdict(): ChainVerdict {
    return { ok: this.broken === null, checkedRows: this.checked, firstBrokenSequence: this.broken, headHash: this.prevHash };
  }
}
