import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { HistoryEntity } from './history.entity.js';
import type { HashedRow } from './proof/hash-chain.js';
import { HistoryAction, NON_CONFIGURATION_ACTIONS } from './history-action.js';

/** Arbitrary constant: the transaction-scoped advisory lock that serializes history appends. */
const HISTORY_APPEND_LOCK = 7_346_100;
const INSERT_CHUNK = 500;

export type HistoryRow = HashedRow;

export interface HistoryFilter {
  readonly sliceKey?: string;
  readonly segmentKey?: string;
  /** The rows of this slice's plans (PLAN_*): they carry no slice key, the plan in `after` names it. */
  readonly planOf?: string;
}

/** History rows: insert and select only. The table refuses anything else (trigger). */
@Injectable()
export class HistoryRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Serializes every change: the statement each changing transaction opens with (ChangeService,
   * through boundedTransaction's `opening`), held until commit, so the chain never forks and each
   * transaction reads the state the previous one committed.
   */
  static readonly APPEND_LOCK_STATEMENT = `SELECT pg_advisory_xact_lock(${HISTORY_APPEND_LOCK})`;

  /** The last row of the chain: under the append lock, the one the next row links to. */
  async head(tx: EntityManager = this.dataSource.manager): Promise<{ position: string; hash: string } | null> {
    const rows: { position: string; hash: string }[] = await tx.query(
      // ORDER BY the column, not the text alias: text order would put "9" after "10".
      'SELECT h.position::text AS position, h.hash FROM history h ORDER BY h.position DESC LIMIT 1',
    );
    return rows[0] ?? null;
  }

  /**
   * What every change needs under the append lock: the head, and one sequence value (most changes
   * append one row). ChangeService sends it with the lock, in START TRANSACTION's round trip
   * (boundedTransaction's `read`): each statement is a round trip the lock is held across. A change
   * that appends nothing leaves that value unused, a gap like a rolled-back transaction's.
   */
  static readonly HEAD_AND_SEQUENCE_STATEMENT = `SELECT head.position, head.hash, nextval('history_sequence_seq')::text AS sequence
         FROM (SELECT 1) one
         LEFT JOIN LATERAL (SELECT h.position::text AS position, h.hash FROM history h ORDER BY h.position DESC LIMIT 1) head ON true`;

  /** The rows of HEAD_AND_SEQUENCE_STATEMENT read. */
  static headAndSequenceOf(rows: readonly Record<string, unknown>[]): { head: { position: string; hash: string } | null; sequence: string } {
    const row = rows[0] as { position: string | null; hash: string | null; sequence: string } | undefined;
    if (row === undefined) throw new Error('the head and sequence read returned no row');
    return { head: row.position === null || row.hash === null ? null : { position: row.position, hash: row.hash }, sequence: row.sequence };
  }

  /** The next `count` sequence values, in increasing order (under the append lock: for a change appending more than one row). */
  async nextSequences(tx: EntityManager, count: number): Promise<string[]> {
    if (count <= 0) return [];
    const rows: { sequence: string }[] = await tx.query(`SELECT nextval('history_sequence_seq')::text AS sequence FROM generate_series(1, $1::int)`, [count]);
    // nextval is evaluated row by row in order; sort numerically to be certain.
    return rows.map((r) => r.sequence).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  }

  /**
   * Inserts the rows, in chunks. `notify`, when given, is sent in the same statement as the last
   * chunk (`pg_notify` in the statement's SELECT, the INSERT as a data-modifying CTE, which always
   * runs): the announcement costs no round trip of its own and, like any NOTIFY, reaches listeners
   * only if the transaction commits.
   */
  /**
   * Inserts the rows (chunked), the revision notice and the change's pending writes (see
   * PendingWrite) in as few statements as the chunks: the writes and the notice ride in the
   * first and last chunk's statement as data-modifying CTEs, which PostgreSQL runs exactly once
   * whether or not anything reads them.
   */
  async insertMany(
    tx: EntityManager,
    rows: readonly HistoryRow[],
    notify: { channel: string; payload: string } | null = null,
    writes: readonly { readonly sql: string; readonly params: readonly unknown[] }[] = [],
  ): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK);
      const params: unknown[] = [];
      const ctes: string[] = [];
      if (i === 0) {
        for (const write of writes) {
          const offset = params.length;
          params.push(...write.params);
          ctes.push(`w${ctes.length} AS (${write.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`);
        }
      }
      const tuples = chunk.map((r) => {
        const at = params.length;
        params.push(
          r.sequence,
          r.sliceKey,
          r.segmentKey,
          r.action,
          json(r.before),
          json(r.after),
          r.actor,
          r.reason,
          r.idempotencyKey,
          r.requestId,
          r.recordedAt,
          r.prevHash,
          r.hash,
          r.position,
          r.scheme,
        );
        const p = (n: number) => `$${at + n}`;
        return `(${p(1)}::bigint, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}::jsonb, ${p(6)}::jsonb, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, ${p(11)}::timestamptz, ${p(12)}, ${p(13)}, ${p(14)}::bigint, ${p(15)}::smallint)`;
      });
      const insert = `INSERT INTO history (sequence, slice_key, segment_key, action, before, after, actor, reason,
                              idempotency_key, request_id, recorded_at, prev_hash, hash, position, scheme)
         VALUES ${tuples.join(', ')}`;
      if (notify !== null && i + INSERT_CHUNK >= rows.length) {
        params.push(notify.channel, notify.payload);
        ctes.push(`inserted AS (${insert})`);
        await tx.query(`WITH ${ctes.join(', ')} SELECT pg_notify($${params.length - 1}, $${params.length})`, params);
      } else {
        await tx.query(ctes.length === 0 ? insert : `WITH ${ctes.join(', ')} ${insert}`, params);
      }
    }
  }

  /** The last row that changed the evaluable configuration: its sequence (the revision) and hash; 0 and null when none. */
  async configurationHead(tx: EntityManager = this.dataSource.manager): Promise<{ revision: number; hash: string | null }> {
    const rows: { revision: string; hash: string }[] = await tx.query(configurationHeadSql('$1'), [NON_CONFIGURATION_ACTIONS]);
    return rows[0] === undefined ? { revision: 0, hash: null } : { revision: Number(rows[0].revision), hash: rows[0].hash };
  }

  /**
   * For each slice, the sequence of the last history row that changed its decisions: a row of the
   * slice whose state, basis points, stickiness attribute, targeting or rolled-back segments differ
   * before and after (created, rollout, targeting, rollback, resume, archive, rollbackSegment,
   * resumeSegment; not description, owner or tags), or
   * a constraints change of a segment the slice uses now (slice_segments). 0 for an unknown slice.
   * An SDK holding a snapshot revision at or above it decides with that change.
   */
  async decisionRevisions(sliceKeys: readonly string[]): Promise<Map<string, string>> {
    if (sliceKeys.length === 0) return new Map();
    const rows: { key: string; revision: string }[] = await this.dataSource.query(
      `SELECT k.key, COALESCE(GREATEST(
         (SELECT max(h.sequence) FROM history h
           WHERE h.slice_key = k.key
             AND (h.before IS NULL OR h.after IS NULL
                  OR (h.before->'state', h.before->'basisPoints', h.before->'stickinessAttribute', h.before->'targeting', h.before->'rolledBackSegments')
                     IS DISTINCT FROM (h.after->'state', h.after->'basisPoints', h.after->'stickinessAttribute', h.after->'targeting', h.after->'rolledBackSegments'))),
         (SELECT max(h.sequence) FROM slice_segments ss JOIN history h ON h.segment_key = ss.segment_key
           WHERE ss.slice_key = k.key
             AND (h.before IS NULL OR h.after IS NULL OR h.before->'constraints' IS DISTINCT FROM h.after->'constraints'))
       ), 0)::text AS revision
       FROM unnest($1::text[]) AS k(key)`,
      [sliceKeys],
    );
    return new Map(rows.map((r) => [r.key, r.revision]));
  }

  /** Each slice's newest history row (absent for a slice with none), in one query: the index on (slice_key, sequence DESC) serves it. */
  async lastOfSlices(sliceKeys: readonly string[]): Promise<Map<string, HistoryRow>> {
    if (sliceKeys.length === 0) return new Map();
    const rows = await this.dataSource
      .getRepository(HistoryEntity)
      .createQueryBuilder('h')
      .distinctOn(['h.slice_key'])
      .where('h.slice_key = ANY(:keys)', { keys: [...sliceKeys] })
      .orderBy('h.slice_key')
      .addOrderBy('h.sequence', 'DESC')
      .getMany();
    return new Map(rows.map((r) => [r.sliceKey!, toRow(r)]));
  }

  /** Newest first, `first` rows strictly older than `beforeSequence`. */
  async page(filter: HistoryFilter, first: number, beforeSequence: string | null): Promise<HistoryRow[]> {
    const qb = this.dataSource.getRepository(HistoryEntity).createQueryBuilder('h');
    if (filter.sliceKey !== undefined) qb.andWhere('h.slice_key = :sliceKey', { sliceKey: filter.sliceKey });
    if (filter.segmentKey !== undefined) qb.andWhere('h.segment_key = :segmentKey', { segmentKey: filter.segmentKey });
    // history_plan_idx (migration 1765600000000) holds exactly these rows: the predicate must stay its text.
    if (filter.planOf !== undefined) {
      qb.andWhere("h.slice_key IS NULL AND h.action LIKE 'PLAN\\_%' AND h.after ->> 'sliceKey' = :planOf", { planOf: filter.planOf });
    }
    if (beforeSequence !== null) qb.andWhere('h.sequence < :before', { before: beforeSequence });
    const rows = await qb.orderBy('h.sequence', 'DESC').limit(first).getMany();
    return rows.map(toRow);
  }

  /**
   * In chain order, `limit` rows from position `fromPosition` on, up to `toPosition` when given
   * (verification, replay, export). Positions are gapless only when nobody removed a row: this
   * returns what is there, and the verifier judges.
   */
  async scan(fromPosition: string, limit: number, toPosition: string | null = null): Promise<HistoryRow[]> {
    const qb = this.dataSource.getRepository(HistoryEntity).createQueryBuilder('h').where('h.position >= :from', { from: fromPosition });
    if (toPosition !== null) qb.andWhere('h.position <= :to', { to: toPosition });
    const rows = await qb.orderBy('h.position', 'ASC').limit(limit).getMany();
    return rows.map(toRow);
  }
}

/** JSON text for a jsonb parameter; SQL NULL for "no configuration" (created / deleted). */
function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function toRow(e: HistoryEntity): HistoryRow {
  return {
    position: e.position,
    scheme: e.scheme,
    sequence: e.sequence,
    sliceKey: e.sliceKey,
    segmentKey: e.segmentKey,
    action: e.action,
    before: e.before,
    after: e.after,
    actor: e.actor,
    reason: e.reason,
    idempotencyKey: e.idempotencyKey,
    requestId: e.requestId,
    recordedAt: e.recordedAt.toISOString(),
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

/** The last history row that changed the evaluable configuration, `actions` naming the parameter with the actions that do not. */
export interface ConfigurationHead {
  readonly revision: number;
  readonly hash: string | null;
}

export interface ConfigurationChanges {
  /** The hash of row `sequence` itself (null when there is none). */
  readonly hashAt: string | null;
  readonly sliceKeys: string[];
  readonly segmentKeys: string[];
  /** A configuration row after `sequence` names neither a slice nor a segment. */
  readonly unkeyed: boolean;
}

/** The columns `configurationSinceSql`'s `since` names (a query selecting them reads them with `configurationSinceOf`). */
export interface ConfigurationSinceRow {
  revision: string | null;
  hash: string | null;
  hash_at: string | null;
  slice_keys: string[] | null;
  segment_keys: string[] | null;
  unkeyed: boolean | null;
}

/**
 * A `WITH since AS (...)` clause, one row: the configuration head (revision, hash) and what history
 * says changed after row `$sequence`: the slices and segments its rows name (every row that changes
 * a slice or a segment names it), whether a configuration row names neither (then the keys are not
 * the whole story: only a ROLLBACK_ALL row may, as its per-slice rows come with it), and the hash of
 * row `$sequence` itself, by which a reader can tell that the history it knew up to there is still
 * this database's (not another timeline after a restore). A statement that goes on to read the
 * changed rows (SnapshotRepository.loadSince) sees them at the same snapshot as the head: one
 * statement, one snapshot, no transaction. Parameters: `configurationSinceParams`.
 */
export function configurationSinceSql(sequence: string, nonConfiguration: string, notKeyed: string): string {
  return `WITH since AS (
    SELECT head.revision, head.hash, changed.*
      FROM (SELECT 1) one
      LEFT JOIN LATERAL (${configurationHeadSql(nonConfiguration)}) head ON true
      CROSS JOIN LATERAL (
        SELECT (SELECT a.hash FROM history a WHERE a.sequence = ${sequence}::bigint) AS hash_at,
               array_agg(DISTINCT h.slice_key) FILTER (WHERE h.slice_key IS NOT NULL) AS slice_keys,
               array_agg(DISTINCT h.segment_key) FILTER (WHERE h.segment_key IS NOT NULL) AS segment_keys,
               bool_or(h.slice_key IS NULL AND h.segment_key IS NULL AND h.action <> ALL(${notKeyed}::text[])) AS unkeyed
          FROM history h WHERE h.sequence > ${sequence}::bigint) changed)`;
}

/** The three parameters of `configurationSinceSql`, in order. */
export function configurationSinceParams(sequence: number): unknown[] {
  return [sequence, NON_CONFIGURATION_ACTIONS, [...NON_CONFIGURATION_ACTIONS, HistoryAction.ROLLBACK_ALL]];
}

export function configurationSinceOf(row: ConfigurationSinceRow): { head: ConfigurationHead; changes: ConfigurationChanges } {
  return {
    head: row.revision === null ? { revision: 0, hash: null } : { revision: Number(row.revision), hash: row.hash },
    changes: { hashAt: row.hash_at, sliceKeys: row.slice_keys ?? [], segmentKeys: row.segment_keys ?? [], unkeyed: row.unkeyed === true },
  };
}

function configurationHeadSql(actions: string): string {
  return `SELECT h.sequence::text AS revision, h.hash FROM history h WHERE h.action <> ALL(${actions}::text[]) ORDER BY h.sequence DESC LIMIT 1`;
}
