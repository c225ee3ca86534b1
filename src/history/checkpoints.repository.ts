import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CHECKPOINT_SCHEME, type HistoryCheckpoint } from './proof/history-checkpoint.js';

interface CheckpointRecord {
  position: string;
  head_hash: string;
  signed_at: Date;
  key_id: string;
  signature: string;
}

/**
 * The checkpoints this service signed (history_checkpoints): insert and select only, like history.
 * A convenience and the instances' shared memory of what was signed; the proof is the published
 * copies, since whoever can write here can also delete.
 */
@Injectable()
export class CheckpointsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Records the checkpoint unless one exists at its position already. True when this call
   * inserted it: the caller, and only it, publishes it (instances sign each head once).
   */
  async claim(checkpoint: HistoryCheckpoint): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO history_checkpoints (position, head_hash, signed_at, key_id, signature)
       VALUES ($1::bigint, $2, $3::timestamptz, $4, $5)
       ON CONFLICT (position) DO NOTHING
       RETURNING position`,
      [checkpoint.position, checkpoint.headHash, checkpoint.signedAt, checkpoint.keyId, checkpoint.signature],
    );
    return rows.length === 1;
  }

  /** The newest checkpoint that names this key (an older key's are for offline verification with it). */
  async latestSignedBy(keyId: string): Promise<HistoryCheckpoint | null> {
    const rows: CheckpointRecord[] = await this.dataSource.query(
      `SELECT position::text AS position, head_hash, signed_at, key_id, signature FROM history_checkpoints
        WHERE key_id = $1 ORDER BY position DESC LIMIT 1`,
      [keyId],
    );
    return rows[0] === undefined ? null : toCheckpoint(rows[0]);
  }

  async at(position: string): Promise<HistoryCheckpoint | null> {
    const rows: CheckpointRecord[] = await this.dataSource.query(
      'SELECT position::text AS position, head_hash, signed_at, key_id, signature FROM history_checkpoints WHERE position = $1::bigint',
      [position],
    );
    return rows[0] === undefined ? null : toCheckpoint(rows[0]);
  }

  /** Newest first, `first` checkpoints below `beforePosition`. */
  async page(first: number, beforePosition: string | null): Promise<HistoryCheckpoint[]> {
    const rows: CheckpointRecord[] = await this.dataSource.query(
      `SELECT c.position::text AS position, c.head_hash, c.signed_at, c.key_id, c.signature
         FROM history_checkpoints c
        WHERE $1::bigint IS NULL OR c.position < $1::bigint
        ORDER BY c.position DESC LIMIT $2`,
      [beforePosition, first],
    );
    return rows.map(toCheckpoint);
  }

  /**
   * Whether the role the service connects as could alter history behind the trigger's back:
   * UPDATE, DELETE or TRUNCATE granted (owners and superusers have them all), or superuser (which
   * may turn triggers off for its session).
   */
  async runtimeRoleCanRewriteHistory(): Promise<boolean> {
    const [row]: { can: boolean }[] = await this.dataSource.query(
      `SELECT has_table_privilege('history', 'UPDATE, DELETE, TRUNCATE')
              OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS can`,
    );
    return row?.can === true;
  }
}

function toCheckpoint(r: CheckpointRecord): HistoryCheckpoint {
  return { scheme: CHECKPOINT_SCHEME, position: r.position, headHash: r.head_hash, signedAt: r.signed_at.toISOString(), keyId: r.key_id, signature: r.signature };
}
