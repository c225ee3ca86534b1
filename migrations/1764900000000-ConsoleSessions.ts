import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Console sign-ins (src/auth/console-sessions.service.ts): a token exchanged for a session held in
 * an HttpOnly cookie, so that the token itself never sits in the browser's storage. Only the hash
 * of the session's secret is stored, as for tokens. A session ends at sign-out (`ended_at`), at
 * its expiry, or with its token (revoked or expired: checked on every use by joining api_tokens).
 * Not history: sign-ins are not configuration; they are logged.
 */
export class ConsoleSessions1764900000000 implements MigrationInterface {
  name = 'ConsoleSessions1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE console_sessions (
        id           uuid PRIMARY KEY,
        secret_hash  text NOT NULL UNIQUE,
        token_id     uuid NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
        created_at   timestamptz NOT NULL,
        expires_at   timestamptz NOT NULL,
        ended_at     timestamptz
      )`);
    await q.query(`CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE console_sessions`);
  }
}
