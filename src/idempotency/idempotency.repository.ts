import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

export interface StoredResponse {
  readonly operation: string;
  readonly requestHash: string;
  readonly actor: string;
  readonly response: unknown;
}

/** First results of mutations sent with an idempotency key. */
@Injectable()
export class IdempotencyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(tx: EntityManager, key: string): Promise<StoredResponse | null> {
    const rows: { operation: string; request_hash: string; actor: string; response: unknown }[] = await tx.query(
      'SELECT operation, request_hash, actor, response FROM idempotency_keys WHERE key = $1',
      [key],
    );
    const row = rows[0];
    return row ? { operation: row.operation, requestHash: row.request_hash, actor: row.actor, response: row.response } : null;
  }

  async insert(tx: EntityManager, key: string, stored: StoredResponse, at: Date): Promise<void> {
    await tx.query(
      `INSERT INTO idempotency_keys (key, operation, request_hash, actor, response, created_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6)`,
      [key, stored.operation, stored.requestHash, stored.actor, JSON.stringify(stored.response), at],
    );
  }

  /** Deletes the keys recorded before `before`. Returns how many went. */
  async prune(before: Date): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(
      'WITH d AS (DELETE FROM idempotency_keys WHERE created_at < $1 RETURNING 1) SELECT count(*)::text AS n FROM d',
      [before],
    );
    return Number(rows[0]!.n);
  }
}
