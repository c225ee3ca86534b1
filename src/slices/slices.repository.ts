import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { SliceState } from '@switchyard/client-sdk/core';
import { DataSource, type EntityManager } from 'typeorm';
import type { PendingWrite } from '../changes/change.service.js';
import { SliceEntity } from './slice.entity.js';
import { observationOf, rolledBackSegmentsOf, sliceSegmentKeys, type SliceRecord, toSliceRecord } from './slice-record.js';

export interface SliceListFilter {
  readonly tag?: string | null;
  readonly state?: SliceState | null;
}

/** The slices table's columns under SliceEntity's property names (a raw row maps onto the entity as it is). */
const ENTITY_COLUMNS = `s.key, s.description, s.owner, s.tags, s.stickiness_attribute AS "stickinessAttribute", s.basis_points AS "basisPoints", s.targeting, s.state,
       s.rolled_back_segments AS "rolledBackSegments", s.watched, s.shadow_basis_points AS "shadowBasisPoints", s.mismatch_threshold_ppm AS "mismatchThresholdPpm",
       s.version, s.created_at AS "createdAt", s.updated_at AS "updatedAt"`;

/** Slices and their segment links. The only code that queries those tables. */
@Injectable()
export class SlicesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(key: string, tx: EntityManager = this.dataSource.manager): Promise<SliceRecord | null> {
    return (await this.findWith(tx, key, []))?.record ?? null;
  }

  /**
   * The slice and, in the same statement, the value of each of `reads` (SQL expressions over its
   * row, alias `s`: what a change's guards need, ExposureGuard.sliceRead), in order.
   */
  async findWith(tx: EntityManager, key: string, reads: readonly string[]): Promise<{ record: SliceRecord; reads: unknown[] } | null> {
    const extra = reads.map((read, i) => `, (${read}) AS "read${i}"`).join('');
    const rows: Record<string, unknown>[] = await tx.query(`SELECT ${ENTITY_COLUMNS}${extra} FROM slices s WHERE s.key = $1`, [key]);
    const row = rows[0];
    if (row === undefined) return null;
    const entity = Object.assign(new SliceEntity(), row);
    return { record: toSliceRecord(entity), reads: reads.map((_, i) => row[`read${i}`] ?? null) };
  }

  /** Ordered by key; `first` rows after the key `afterKey`. */
  async list(filter: SliceListFilter, first: number, afterKey: string | null): Promise<SliceRecord[]> {
    const qb = this.dataSource.getRepository(SliceEntity).createQueryBuilder('s');
    if (filter.tag) qb.andWhere(':tag = ANY(s.tags)', { tag: filter.tag });
    if (filter.state) qb.andWhere('s.state = :state', { state: filter.state });
    if (afterKey !== null) qb.andWhere('s.key > :afterKey', { afterKey });
    const rows = await qb.orderBy('s.key', 'ASC').limit(first).getMany();
    return rows.map(toSliceRecord);
  }

  async findMany(keys: readonly string[]): Promise<SliceRecord[]> {
    if (keys.length === 0) return [];
    const rows = await this.dataSource.getRepository(SliceEntity).createQueryBuilder('s').where('s.key = ANY(:keys)', { keys }).orderBy('s.key').getMany();
    return rows.map(toSliceRecord);
  }

  /** ACTIVE slices (optionally with a tag), locked for this transaction, in key order. */
  async lockActive(tx: EntityManager, tag: string | null): Promise<SliceRecord[]> {
    const qb = tx.getRepository(SliceEntity).createQueryBuilder('s').setLock('pessimistic_write').where("s.state = 'ACTIVE'");
    if (tag) qb.andWhere(':tag = ANY(s.tags)', { tag });
    const rows = await qb.orderBy('s.key', 'ASC').getMany();
    return rows.map(toSliceRecord);
  }

  async insert(tx: EntityManager, record: SliceRecord): Promise<void> {
    await tx.insert(SliceEntity, toEntity(record));
    await this.replaceSegmentLinks(tx, record);
  }

  /**
   * Writes the whole record (the caller has bumped its version). When its targeting or its
   * rolled-back segments changed, call `replaceSegmentLinks` too.
   */
  async save(tx: EntityManager, record: SliceRecord): Promise<void> {
    const { sql, params } = this.saveStatement(record);
    await tx.query(sql, [...params]);
  }

  /** `save` as a statement, for a change to run with its history rows (ChangeService's PendingWrite): every column but the key and createdAt. */
  saveStatement(record: SliceRecord): PendingWrite {
    const e = toEntity(record);
    return {
      sql: `UPDATE slices SET description = $2, owner = $3, tags = $4::text[], stickiness_attribute = $5, basis_points = $6, targeting = $7::jsonb, state = $8,
                  rolled_back_segments = $9::text[], watched = $10, shadow_basis_points = $11, mismatch_threshold_ppm = $12, version = $13, updated_at = $14::timestamptz
             WHERE key = $1`,
      params: [
        e.key,
        e.description,
        e.owner,
        e.tags,
        e.stickinessAttribute,
        e.basisPoints,
        JSON.stringify(e.targeting),
        e.state,
        e.rolledBackSegments,
        e.watched,
        e.shadowBasisPoints,
        e.mismatchThresholdPpm,
        e.version,
        e.updatedAt.toISOString(),
      ],
    };
  }

  /** One statement for many slices: the rollbackAll path, where 1,000 slices must take well under a second. */
  async setStates(tx: EntityManager, keys: readonly string[], state: SliceState, at: Date): Promise<SliceRecord[]> {
    if (keys.length === 0) return [];
    await tx.query('UPDATE slices SET state = $1, version = version + 1, updated_at = $2 WHERE key = ANY($3::text[])', [state, at, keys]);
    const rows = await tx.getRepository(SliceEntity).createQueryBuilder('s').where('s.key = ANY(:keys)', { keys }).orderBy('s.key').getMany();
    return rows.map(toSliceRecord);
  }

  /**
   * Keeps slice_segments equal to the segments the record depends on: its targeting's and its
   * rolled-back ones (so neither can be deleted while the slice names it, and both reach the snapshot).
   */
  async replaceSegmentLinks(tx: EntityManager, record: SliceRecord): Promise<void> {
    await tx.query('DELETE FROM slice_segments WHERE slice_key = $1', [record.key]);
    const segmentKeys = sliceSegmentKeys(record);
    if (segmentKeys.length > 0) {
      await tx.query('INSERT INTO slice_segments (slice_key, segment_key) SELECT $1, unnest($2::text[])', [record.key, segmentKeys]);
    }
  }
}

function toEntity(r: SliceRecord): SliceEntity {
  const { watched, shadowBasisPoints, mismatchThresholdPpm } = observationOf(r);
  return Object.assign(new SliceEntity(), {
    key: r.key,
    description: r.description,
    owner: r.owner,
    tags: [...r.tags],
    stickinessAttribute: r.stickinessAttribute,
    basisPoints: r.basisPoints,
    targeting: r.targeting,
    state: r.state,
    rolledBackSegments: [...rolledBackSegmentsOf(r)],
    watched,
    shadowBasisPoints,
    mismatchThresholdPpm,
    version: r.version,
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
  });
}
