import { createHash } from 'node:crypto';

/**
 * The history hash chain: pure (node:crypto only), shared by the service and the CLI's offline
 * verifier. docs/history.md specifies every byte of it so that an auditor can re-implement it
 * (docs/verify_history.py does, in Python): if you change anything here, change both, and the
 * golden vectors in test/fixtures/history-hash-vectors.json must keep passing.
 */

/** The `prev_hash` of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * How a row's hash is computed. Stored with each row and never changed for an existing row:
 *  - 1: rows written before positions existed. SHA-256 over `prevHash + "\n" + canonicalJson(the
 *    twelve v1 fields)`; the position is not covered (the migration gave these rows positions in
 *    sequence order, and contiguity from genesis proves them anyway).
 *  - 2: every row since. SHA-256 over `"switchyard-history-v2\n" + canonicalJson(the v1 fields
 *    plus position and scheme)`.
 * A new scheme gets a new number: existing rows keep verifying with theirs.
 */
export type ChainScheme = 1 | 2;
export const CURRENT_SCHEME: ChainScheme = 2;
const V2_PREFIX = 'switchyard-history-v2\n';

/** The fields a row's hash covers: all of them but the hash itself. */
export interface ChainedRow {
  /** 1, 2, 3... without gaps: assigned under the append lock as the head's position + 1. A 64-bit integer as a string. */
  readonly position: string;
  readonly scheme: number;
  /** From a database sequence: increasing, but with gaps (a rolled-back transaction, a crash). The snapshot revision. */
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

export type HashedRow = ChainedRow & { readonly hash: string };

/** The hash a row must carry, by its scheme. Throws on a scheme this code does not know. */
export function chainHash(row: ChainedRow): string {
  const v1 = {
    sequence: row.sequence,
    sliceKey: row.sliceKey,
    segmentKey: row.segmentKey,
    action: row.action,
    before: row.before,
    after: row.after,
    actor: row.actor,
    reason: row.reason,
    idempotencyKey: row.idempotencyKey,
    requestId: row.requestId,
    recordedAt: row.recordedAt,
    prevHash: row.prevHash,
  };
  switch (row.scheme) {
    case 1:
      return sha256(`${row.prevHash}\n${canonicalJson(v1)}`);
    case 2:
      return sha256(V2_PREFIX + canonicalJson({ ...v1, position: row.position, scheme: 2 }));
    default:
      throw new RangeError(`unknown history hash scheme ${String(row.scheme)}`);
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Deterministic JSON: object keys sorted by UTF-16 code units (JavaScript's default sort) at
 * every level, no white space, strings and numbers exactly as JSON.stringify writes them (its
 * escapes: `\"`, `\\`, `\b \f \n \r \t`, other controls below U+0020 and lone surrogates as
 * lowercase `\u00xx`; everything else, U+2028 and `</` included, as is), `undefined` members
 * dropped as JSON.stringify does. The same whether computed from the object about to be inserted
 * or from the JSONB PostgreSQL hands back (which reorders keys).
 */
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

/**
 * Why a verification failed, or OK. A closed set: the GraphQL enum, the CLI's JSON and the Python
 * verifier use the same words.
 */
export const CHAIN_VERDICTS = [
  'OK',
  /** A row's hash, its link to the row before, its position or its scheme does not verify: `firstBrokenPosition`. */
  'MISMATCH_AT_POSITION',
  /** The chain ends before the checkpoint's position: rows were removed from its end (or all of them). */
  'TRUNCATED',
  /** The row at the checkpoint's position does not have the checkpoint's hash: the chain was rewritten at or before it. */
  'CHECKPOINT_MISMATCH',
  /** The checkpoint's signature does not verify with the public key. */
  'BAD_SIGNATURE',
  /** The checkpoint names another key than the one it is verified with. */
  'WRONG_KEY',
  /** Offline: the export does not cover the checkpoint's position (an export of another range). */
  'CHECKPOINT_OUT_OF_RANGE',
  /** Offline: a line of the export is not a history row as docs/history.md specifies. */
  'MALFORMED',
] as const;
export type ChainVerdictCode = (typeof CHAIN_VERDICTS)[number];

/** What a chain is verified against: a (signed, published) statement that position P had hash H. */
export interface ChainAnchor {
  readonly position: string;
  readonly headHash: string;
}

/** What verification found. */
export interface ChainVerdict {
  readonly ok: boolean;
  readonly verdict: ChainVerdictCode;
  readonly checkedRows: number;
  /** The first position at which the chain does not verify (its row altered, missing or out of place); null otherwise. */
  readonly firstBrokenPosition: string | null;
  /** The sequence of the row where the break was found; null when none was found, or no row was there. */
  readonly firstBrokenSequence: string | null;
  /**
   * Position and hash of the last row that verified: 0 and the genesis hash when none did (null
   * for an export of a range where none did).
   */
  readonly headPosition: string;
  readonly headHash: string | null;
  /** The checkpoint's position when one was checked, and it held. */
  readonly checkpointPosition: string | null;
}

export interface ChainVerifierOptions {
  /** The position of the first row fed (an export of a range); 1 by default. */
  readonly fromPosition?: string;
  /** Prove the chain extends each of these checkpoints: the row at its position has its hash. */
  readonly checkpoints?: readonly ChainAnchor[];
}

/**
 * Walks rows in position order, recomputing each hash and checking each link, that positions
 * run 1, 2, 3... without a gap, and that scheme 1 rows all come before scheme 2 ones; with
 * checkpoints, that the chain reaches each one's position with its hash. Feed it pages in order;
 * besides the checkpoints, it keeps only the last row's position and hash between them.
 */
export class ChainVerifier {
  /** Checkpoint hashes by position, until the row at that position is seen. */
  private readonly pending = new Map<bigint, string[]>();
  private highestHeld: bigint | null = null;
  private expected: bigint;
  /** The hash the next row must link to; null when an export of a range starts without one. */
  private prevHash: string | null;
  private lastPosition: bigint;
  private lastHash: string | null;
  private checked = 0;
  private seenV2 = false;
  private failure: { verdict: ChainVerdictCode; position: bigint | null; sequence: string | null } | null = null;

  constructor(options: ChainVerifierOptions = {}) {
    const from = BigInt(options.fromPosition ?? '1');
    if (from < 1n) throw new RangeError('fromPosition must be 1 or more');
    this.expected = from;
    this.lastPosition = from - 1n;
    this.prevHash = from === 1n ? GENESIS_HASH : null;
    this.lastHash = this.prevHash;
    for (const checkpoint of options.checkpoints ?? []) {
      const position = BigInt(checkpoint.position);
      if (position < 1n) throw new RangeError('a checkpoint position is 1 or more');
      // Before the rows fed and not right before them: nothing here can show the chain extends it.
      if (position < from - 1n) this.fail('CHECKPOINT_OUT_OF_RANGE', null, null);
      this.pending.set(position, [...(this.pending.get(position) ?? []), checkpoint.headHash]);
    }
  }

  /** Whether a break was found already (then every further row is ignored). */
  get stopped(): boolean {
    return this.failure !== null;
  }

  /** Returns false once a break is found (no need to read further). */
  accept(row: HashedRow): boolean {
    if (this.failure !== null) return false;
    this.checked++;
    const position = parsePosition(row.position);
    if (position !== this.expected) return this.fail('MISMATCH_AT_POSITION', this.expected, row.sequence);
    if (this.prevHash === null) {
      // An export that starts right after a checkpoint: its first row must link to it.
      if (!this.holds(position - 1n, row.prevHash)) return this.fail('CHECKPOINT_MISMATCH', null, row.sequence);
    } else if (row.prevHash !== this.prevHash) {
      return this.fail('MISMATCH_AT_POSITION', position, row.sequence);
    }
    if (row.scheme === 1 && this.seenV2) return this.fail('MISMATCH_AT_POSITION', position, row.sequence);
    let hash: string;
    try {
      hash = chainHash(row);
    } catch {
      return this.fail('MISMATCH_AT_POSITION', position, row.sequence);
    }
    if (hash !== row.hash) return this.fail('MISMATCH_AT_POSITION', position, row.sequence);
    // The chain up to here verifies, yet the key holder saw another hash here: it was rewritten.
    if (!this.holds(position, row.hash)) return this.fail('CHECKPOINT_MISMATCH', null, null);
    if (row.scheme === 2) this.seenV2 = true;
    this.prevHash = row.hash;
    this.lastHash = row.hash;
    this.lastPosition = position;
    this.expected = position + 1n;
    return true;
  }

  /** Stops with a verdict found outside the rows (a malformed export line, a bad signature). */
  reject(verdict: Exclude<ChainVerdictCode, 'OK'>): void {
    if (this.failure === null) this.fail(verdict, null, null);
  }

  /**
   * The verdict once every row was fed. `fedUpTo`: the last position the rows fed were meant to
   * reach (an export of a range that ends there); a checkpoint beyond it is out of range rather
   * than proof of a truncated chain. Unbounded by default.
   */
  verdict({ fedUpTo = null }: { fedUpTo?: string | null } = {}): ChainVerdict {
    let failure = this.failure;
    if (failure === null && this.pending.size > 0) {
      const within = fedUpTo === null || [...this.pending.keys()].some((p) => p <= BigInt(fedUpTo));
      failure = { verdict: within ? 'TRUNCATED' : 'CHECKPOINT_OUT_OF_RANGE', position: null, sequence: null };
    }
    return {
      ok: failure === null,
      verdict: failure?.verdict ?? 'OK',
      checkedRows: this.checked,
      firstBrokenPosition: failure?.position?.toString() ?? null,
      firstBrokenSequence: failure?.sequence ?? null,
      headPosition: this.lastPosition.toString(),
      headHash: this.lastHash,
      checkpointPosition: failure === null && this.highestHeld !== null ? this.highestHeld.toString() : null,
    };
  }

  /** Whether every checkpoint at `position` has `hash` (true when there is none); forgets them. */
  private holds(position: bigint, hash: string): boolean {
    const expected = this.pending.get(position);
    if (expected === undefined) return true;
    this.pending.delete(position);
    if (expected.some((h) => h !== hash)) return false;
    if (this.highestHeld === null || position > this.highestHeld) this.highestHeld = position;
    return true;
  }

  private fail(verdict: ChainVerdictCode, position: bigint | null, sequence: string | null): false {
    this.failure = { verdict, position, sequence };
    return false;
  }
}

/** A position as it must be written: a decimal integer, 1 or more, no sign, no leading zero. */
export const POSITION_PATTERN = /^[1-9][0-9]{0,18}$/;

function parsePosition(value: string): bigint {
  return typeof value === 'string' && POSITION_PATTERN.test(value) ? BigInt(value) : -1n;
}
