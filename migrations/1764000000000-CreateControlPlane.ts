import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The control plane's tables. Raw SQL that runs unchanged on PostgreSQL 14+ and on PGlite.
 * Never edit after merge: add a new migration instead.
 */
export class CreateControlPlane1764000000000 implements MigrationInterface {
  name = 'CreateControlPlane1764000000000';

  async up(q: QueryRunner): Promise<void> {
    // Keys are immutable identifiers shared with every SDK; the pattern is enforced here too so
    // that no path around the API can store one an SDK would refuse.
    await q.query(`
      CREATE TABLE segments (
        key         text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9._:/-]{0,127}$'),
        description text NOT NULL DEFAULT '',
        constraints jsonb NOT NULL,
        version     integer NOT NULL CHECK (version > 0),
        created_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE slices (
        key                  text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9._:/-]{0,127}$'),
        description          text NOT NULL DEFAULT '',
        owner                text NOT NULL DEFAULT '',
        tags                 text[] NOT NULL DEFAULT '{}',
        stickiness_attribute text NOT NULL DEFAULT 'userId',
        basis_points         integer NOT NULL CHECK (basis_points BETWEEN 0 AND 10000),
        targeting            jsonb NOT NULL,
        state                text NOT NULL CHECK (state IN ('ACTIVE', 'ROLLED_BACK', 'ARCHIVED')),
        version              integer NOT NULL CHECK (version > 0),
        created_at           timestamptz NOT NULL,
        updated_at           timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX slices_tags_idx ON slices USING gin (tags)`);
    await q.query(`CREATE INDEX slices_state_idx ON slices (state)`);
    // Which segments a slice's targeting names. Kept in step with slices.targeting by the
    // service in the same transaction; the foreign key makes "delete a segment still in use"
    // impossible even for a path that skips the service's own check.
    await q.query(`
      CREATE TABLE slice_segments (
        slice_key   text NOT NULL REFERENCES slices (key) ON DELETE CASCADE,
        segment_key text NOT NULL REFERENCES segments (key) ON DELETE RESTRICT,
        PRIMARY KEY (slice_key, segment_key)
      )`);
    await q.query(`CREATE INDEX slice_segments_segment_idx ON slice_segments (segment_key)`);

    await q.query(`
      CREATE TABLE history (
        sequence        bigserial PRIMARY KEY,
        slice_key       text,
        segment_key     text,
        action          text NOT NULL,
        before          jsonb,
        after           jsonb,
        actor           text NOT NULL,
        reason          text,
        idempotency_key text,
        request_id      text,
        recorded_at     timestamptz NOT NULL,
        prev_hash       text NOT NULL,
        hash            text NOT NULL UNIQUE
      )`);
    await q.query(`CREATE INDEX history_slice_idx ON history (slice_key, sequence DESC) WHERE slice_key IS NOT NULL`);
    await q.query(`CREATE INDEX history_segment_idx ON history (segment_key, sequence DESC) WHERE segment_key IS NOT NULL`);
    // Append-only, enforced by the database: whatever the application does, a row once written
    // stays as written. (Tampering that disables the trigger is caught by the hash chain.)
    await q.query(`
      CREATE FUNCTION history_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'history is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await q.query(`
      CREATE TRIGGER history_no_update_delete BEFORE UPDATE OR DELETE ON history
      FOR EACH ROW EXECUTE FUNCTION history_refuse_change()`);
    await q.query(`
      CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history
      FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change()`);

    await q.query(`
      CREATE TABLE api_tokens (
        id          uuid PRIMARY KEY,
        name        text NOT NULL UNIQUE,
        role        text NOT NULL CHECK (role IN ('admin', 'release-manager', 'incident-responder', 'viewer', 'sdk')),
        token_hash  text NOT NULL UNIQUE,
        created_by  text NOT NULL,
        created_at  timestamptz NOT NULL,
        expires_at  timestamptz,
        revoked_at  timestamptz
      )`);

    // One row per idempotency key: the first result of a mutation, returned again on retry.
    await q.query(`
      CREATE TABLE idempotency_keys (
        key          text PRIMARY KEY,
        operation    text NOT NULL,
        request_hash text NOT NULL,
        actor        text NOT NULL,
        response     jsonb NOT NULL,
        created_at   timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
    await q.query(`DROP TABLE api_tokens`);
    await q.query(`DROP TABLE history`);
    await q.query(`DROP FUNCTION history_refuse_change()`);
    await q.query(`DROP TABLE slice_segments`);
    await q.query(`DROP TABLE slices`);
    await q.query(`DROP TABLE segments`);
  }
}
