import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { SliceState } from '@switchyard/client-sdk/core';
import { DataSource, type EntityManager } from 'typeorm';
import { SliceEntity } from './slice.entity.js';
import { observationOf, rolledBackSegmentsOf, sliceSegmentKeys, type SliceRecord, toSliceRecord } from './slice-record.js';

export interface SliceListFilter {
  readonly tag?: string | null;
  readonly state?: SliceState | null;
}

/** Slices and their segment links. The only code that queries those tables. */
@Injectable()
export class SlicesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(key: string, tx: EntityManager = this.dataSource.manager): Promise<SliceRecord | null> {
    const entity = await tx.findOneBy(SliceEntity, { key });
    return entity ? toSliceRecord(entity) : null;
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
    const { key, createdAt: _createdAt, ...rest } = toEntity(record);
    await tx.update(SliceEntity, { key }, rest);
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
