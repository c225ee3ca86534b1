import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Role } from '../access/roles.js';

/** A live session, with the token it was opened with (both still valid at `now`). */
export interface SessionRow {
  readonly tokenId: string;
  readonly name: string;
  readonly role: Role;
  readonly tokenExpiresAt: Date | null;
  readonly expiresAt: Date;
}

interface RawSessionRow {
  token_id: string;
  name: string;
  role: Role;
  token_expires_at: Date | null;
  expires_at: Date;
}

/** Console sessions (migration 1764900000000). Only hashes of their secrets are stored or looked up. */
@Injectable()
export class ConsoleSessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(session: { id: string; secretHash: string; tokenId: string; createdAt: Date; expiresAt: Date }): Promise<void> {
    await this.dataSource.query(`INSERT INTO console_sessions (id, secret_hash, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`, [
      session.id,
      session.secretHash,
      session.tokenId,
      session.createdAt,
      session.expiresAt,
    ]);
  }

  /** The session behind this hash if it and its token are valid at `now`: not ended, expired or revoked. */
  async findLive(secretHash: string, now: Date): Promise<SessionRow | null> {
    const rows = await this.dataSource.query<RawSessionRow[]>(
      `SELECT s.token_id, t.name, t.role, t.expires_at AS token_expires_at, s.expires_at
         FROM console_sessions s JOIN api_tokens t ON t.id = s.token_id
        WHERE s.secret_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2
          AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)`,
      [secretHash, now],
    );
    const row = rows[0];
    if (row === undefined) return null;
    return { tokenId: row.token_id, name: row.name, role: row.role, tokenExpiresAt: row.token_expires_at, expiresAt: row.expires_at };
  }

  /** Ends the session (sign-out). True when it was live. */
  async end(secretHash: string, now: Date): Promise<boolean> {
    const [, count] = await this.dataSource.query<[unknown, number]>(`UPDATE console_sessions SET ended_at = $2 WHERE secret_hash = $1 AND ended_at IS NULL`, [secretHash, now]);
    return count > 0;
  }

  /** Deletes sessions that ended or expired before `before`, in batches; returns how many. */
  async prune(before: Date, batch = 5_000): Promise<number> {
    const [, count] = await this.dataSource.query<[unknown, number]>(
      `DELETE FROM console_sessions WHERE id IN (
         SELECT id FROM console_sessions WHERE expires_at < $1 OR ended_at < $1 LIMIT $2)`,
      [before, batch],
    );
    return count;
  }
}
