import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * History that proves itself (docs/history.md):
 *  - every row gets a gapless `position` (1, 2, 3...): `sequence` comes from a database sequence
 *    and jumps after a rollback or a crash, which an auditor cannot tell from deleted rows. The
 *    existing rows get positions in sequence order and keep their hashes (`scheme` 1); rows
 *    written from now on are hashed with scheme 2, which covers the position;
 *  - `history_checkpoints` keeps the signed checkpoints the service publishes, so that instances
 *    sign each head once. Not the proof itself (an adversary who can write here can delete them):
 *    the published copies are;
 *  - nobody but the owner of these tables may UPDATE, DELETE or TRUNCATE them, whatever was
 *    granted before (a runtime role with default privileges, say): the owner is the migrations
 *    role, and the service runs as another one that cannot disable the triggers.
 */
export class HistoryPositionsAndCheckpoints1764600000000 implements MigrationInterface {
  name = 'HistoryPositionsAndCheckpoints1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE history ADD COLUMN position bigint`);
    // Existing rows are scheme 1 (the default fills them without a rewrite); new rows must say.
    await q.query(`ALTER TABLE history ADD COLUMN scheme smallint NOT NULL DEFAULT 1`);
    await q.query(`ALTER TABLE history ALTER COLUMN scheme DROP DEFAULT`);
    // The append-only trigger refuses this UPDATE, as it should refuse every other: off for this
    // one statement, inside this migration's transaction (the table's owner may; the service's
    // runtime role may not). The hashes of these rows do not cover the position.
    await q.query(`ALTER TABLE history DISABLE TRIGGER history_no_update_delete`);
    await q.query(`
      UPDATE history h SET position = o.position
        FROM (SELECT sequence, row_number() OVER (ORDER BY sequence) AS position FROM history) o
       WHERE h.sequence = o.sequence`);
    await q.query(`ALTER TABLE history ENABLE TRIGGER history_no_update_delete`);
    await q.query(`ALTER TABLE history ALTER COLUMN position SET NOT NULL`);
    await q.query(`ALTER TABLE history ADD CONSTRAINT history_position_key UNIQUE (position)`);
    await q.query(`ALTER TABLE history ADD CONSTRAINT history_position_check CHECK (position >= 1)`);
    await q.query(`ALTER TABLE history ADD CONSTRAINT history_scheme_check CHECK (scheme IN (1, 2))`);

    // One row per checkpointed position: the instance whose INSERT wins publishes it.
    await q.query(`
      CREATE TABLE history_checkpoints (
        position  bigint PRIMARY KEY CHECK (position >= 1),
        head_hash text NOT NULL,
        signed_at timestamptz NOT NULL,
        key_id    text NOT NULL,
        signature text NOT NULL
      )`);
    await q.query(`
      CREATE TRIGGER history_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON history_checkpoints
      FOR EACH ROW EXECUTE FUNCTION history_refuse_change()`);
    await q.query(`
      CREATE TRIGGER history_checkpoints_no_truncate BEFORE TRUNCATE ON history_checkpoints
      FOR EACH STATEMENT EXECUTE FUNCTION history_refuse_change()`);

    // Whoever was granted more than INSERT and SELECT on the record (PUBLIC included) loses it.
    await q.query(`
      DO $$
      DECLARE g record;
      BEGIN
        FOR g IN
          SELECT DISTINCT c.relname, a.grantee
            FROM pg_class c, aclexplode(c.relacl) a
           WHERE c.oid IN ('history'::regclass, 'history_checkpoints'::regclass)
             AND a.grantee <> c.relowner
             AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
        LOOP
          EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %s', g.relname,
                         -- regrole's text is already quoted where a name needs it
                         CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END);
        END LOOP;
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The code before this migration hashes every row as scheme 1: it would call each scheme 2
    // row broken. Reverting is for a history written entirely before it.
    const [row] = (await q.query(`SELECT count(*)::text AS n FROM history WHERE scheme <> 1`)) as { n: string }[];
    if (row !== undefined && row.n !== '0') {
      throw new Error(`cannot revert: ${row.n} history rows are hashed with scheme 2, which the previous code cannot verify`);
    }
    await q.query(`DROP TABLE history_checkpoints`);
    await q.query(`ALTER TABLE history DROP CONSTRAINT history_scheme_check`);
    await q.query(`ALTER TABLE history DROP CONSTRAINT history_position_check`);
    await q.query(`ALTER TABLE history DROP CONSTRAINT history_position_key`);
    await q.query(`ALTER TABLE history DROP COLUMN scheme`);
    await q.query(`ALTER TABLE history DROP COLUMN position`);
  }
}
