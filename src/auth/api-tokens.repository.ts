import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, In } from 'typeorm';
import { ApiTokenEntity } from './api-token.entity.js';

/** API tokens. Only hashes are ever stored or looked up. */
@Injectable()
export class ApiTokensRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findByHash(tokenHash: string): Promise<ApiTokenEntity | null> {
    return this.dataSource.manager.findOneBy(ApiTokenEntity, { tokenHash });
  }

  /** The validity of these tokens (absent: no such token any more), in one query. */
  async validity(ids: readonly string[]): Promise<Pick<ApiTokenEntity, 'id' | 'expiresAt' | 'revokedAt'>[]> {
    if (ids.length === 0) return [];
    return this.dataSource.manager.find(ApiTokenEntity, { select: { id: true, expiresAt: true, revokedAt: true }, where: { id: In([...ids]) } });
  }

  findById(id: string, tx: EntityManager = this.dataSource.manager): Promise<ApiTokenEntity | null> {
    return tx.findOneBy(ApiTokenEntity, { id });
  }

  findByName(name: string, tx: EntityManager = this.dataSource.manager): Promise<ApiTokenEntity | null> {
    return tx.findOneBy(ApiTokenEntity, { name });
  }

  list(): Promise<ApiTokenEntity[]> {
    return this.dataSource.manager.find(ApiTokenEntity, { order: { createdAt: 'ASC', name: 'ASC' } });
  }

  count(tx: EntityManager = this.dataSource.manager): Promise<number> {
    return tx.count(ApiTokenEntity);
  }

  async insert(tx: EntityManager, token: ApiTokenEntity): Promise<void> {
    await tx.insert(ApiTokenEntity, token);
  }

  async revoke(tx: EntityManager, id: string, at: Date): Promise<void> {
    await tx.update(ApiTokenEntity, { id }, { revokedAt: at });
  }
}
