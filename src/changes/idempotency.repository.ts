import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

export interface StoredResponse {
  readonly operation: string;
  readonly requestHash: string;
  readonly actor: string;
  readonly response: unknown;
}

/** How many expired keys one DELETE removes. */
const PRUNE_BATCH = 5_000;

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

  /**
   * Deletes the keys recorded before `before`, PRUNE_BATCH at a time: the first run after an
   * upgrade may find a long backlog, and one statement would hold its locks (and risk the query
   * timeout) for all of it. Returns how many went.
   */
  async prune(before: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const rows: { n: string }[] = await this.dataSource.query(
        `WITH d AS (DELETE FROM idempotency_keys WHERE key IN (
                      SELECT key FROM idempotency_keys WHERE created_at < $1 LIMIT $2) RETURNING 1)
         SELECT count(*)::text AS n FROM d`,
        [before, PRUNE_BATCH],
      );
      const deleted = Number(rows[0]!.n);
      total += deleted;
      if (deleted < PRUNE_BATCH) return total;
    }
  }
}
