import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { FreezeWindowEntity } from './freeze-window.entity.js';
import { type FreezeWindowRecord, toFreezeWindowRecord } from './freeze-window-record.js';

/** Freeze windows. The only code that queries the freeze_windows table. */
@Injectable()
export class FreezeWindowsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(key: string, tx: EntityManager = this.dataSource.manager): Promise<FreezeWindowRecord | null> {
    const entity = await tx.findOneBy(FreezeWindowEntity, { key });
    return entity ? toFreezeWindowRecord(entity) : null;
  }

  /**
   * Every window as one json array, in key order: an expression for a change to read with its
   * slice (ExposureGuard.sliceRead), so the freeze guard costs no round trip of its own.
   */
  static readonly ALL_AS_JSON = `SELECT coalesce(json_agg(json_build_object('key', w.key, 'description', w.description, 'timeZone', w.time_zone, 'schedule', w.schedule,
           'tag', w.tag, 'version', w.version, 'createdAt', w.created_at, 'updatedAt', w.updated_at) ORDER BY w.key), '[]'::json) FROM freeze_windows w`;

  /** The records of ALL_AS_JSON's value. */
  static fromJson(value: unknown): FreezeWindowRecord[] {
    if (!Array.isArray(value)) throw new Error('freeze windows: the slice read gave no array');
    return (value as Record<string, unknown>[]).map((w) =>
      toFreezeWindowRecord(Object.assign(new FreezeWindowEntity(), w, { createdAt: new Date(w.createdAt as string), updatedAt: new Date(w.updatedAt as string) })),
    );
  }

  /** Every window, in key order: there are at most MAX_FREEZE_WINDOWS. */
  async all(tx: EntityManager = this.dataSource.manager): Promise<FreezeWindowRecord[]> {
    const rows = await tx.getRepository(FreezeWindowEntity).createQueryBuilder('w').orderBy('w.key', 'ASC').getMany();
    return rows.map(toFreezeWindowRecord);
  }

  async count(tx: EntityManager): Promise<number> {
    return tx.count(FreezeWindowEntity);
  }

  async insert(tx: EntityManager, r: FreezeWindowRecord): Promise<void> {
    await tx.insert(FreezeWindowEntity, toEntity(r));
  }

  async save(tx: EntityManager, r: FreezeWindowRecord): Promise<void> {
    const { key, createdAt: _createdAt, ...rest } = toEntity(r);
    await tx.update(FreezeWindowEntity, { key }, rest);
  }

  async delete(tx: EntityManager, key: string): Promise<void> {
    await tx.delete(FreezeWindowEntity, { key });
  }
}

function toEntity(r: FreezeWindowRecord): FreezeWindowEntity {
  return Object.assign(new FreezeWindowEntity(), {
    key: r.key,
    description: r.description,
    timeZone: r.timeZone,
    schedule: r.schedule,
    tag: r.tag,
    version: r.version,
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
  });
}
