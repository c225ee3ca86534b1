import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { SegmentEntity } from './segment.entity.js';
import { type SegmentRecord, toSegmentRecord } from './segment-record.js';

/** Segments. The only code that queries the segments table. */
@Injectable()
export class SegmentsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(key: string, tx: EntityManager = this.dataSource.manager): Promise<SegmentRecord | null> {
    const entity = await tx.findOneBy(SegmentEntity, { key });
    return entity ? toSegmentRecord(entity) : null;
  }

  async findMany(keys: readonly string[], tx: EntityManager = this.dataSource.manager): Promise<SegmentRecord[]> {
    if (keys.length === 0) return [];
    const rows = await tx.getRepository(SegmentEntity).createQueryBuilder('g').where('g.key = ANY(:keys)', { keys }).orderBy('g.key').getMany();
    return rows.map(toSegmentRecord);
  }

  async list(first: number, afterKey: string | null): Promise<SegmentRecord[]> {
    const qb = this.dataSource.getRepository(SegmentEntity).createQueryBuilder('g');
    if (afterKey !== null) qb.where('g.key > :afterKey', { afterKey });
    const rows = await qb.orderBy('g.key', 'ASC').limit(first).getMany();
    return rows.map(toSegmentRecord);
  }

  async insert(tx: EntityManager, r: SegmentRecord): Promise<void> {
    await tx.insert(SegmentEntity, toEntity(r));
  }

  async save(tx: EntityManager, r: SegmentRecord): Promise<void> {
    const { key, createdAt: _createdAt, ...rest } = toEntity(r);
    await tx.update(SegmentEntity, { key }, rest);
  }

  /** Keys of the slices whose targeting names this segment (slice_segments, kept by SlicesRepository). */
  async usedBy(segmentKey: string, tx: EntityManager = this.dataSource.manager): Promise<string[]> {
    const rows: { slice_key: string }[] = await tx.query('SELECT slice_key FROM slice_segments WHERE segment_key = $1 ORDER BY slice_key', [segmentKey]);
    return rows.map((r) => r.slice_key);
  }

  async delete(tx: EntityManager, key: string): Promise<void> {
    await tx.delete(SegmentEntity, { key });
  }
}

function toEntity(r: SegmentRecord): SegmentEntity {
  return Object.assign(new SegmentEntity(), {
    key: r.key,
    description: r.description,
    constraints: r.constraints.map((c) => ({ ...c, values: [...c.values] })),
    version: r.version,
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
  });
}
