import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface StoredResponse {
  readonly operation: string;
  readonly requestHash: string;
  readonly actor: string;
  readonly response: unknown;
}

/** First results of mutations sent with an idempotency key. */
@Injectable()
export class IdempotencyRepository {
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
}
