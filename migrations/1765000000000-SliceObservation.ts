import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-slice observation settings (docs/outcomes.md, "Slice settings"): whether SDKs report the
 * slice's outcomes every few seconds (`watched`), the share of `compare` calls that also run the
 * path not served (`shadow_basis_points`, 0..10000 like `basis_points`), and the mismatch rate at
 * or under which comparisons are WITHIN (`mismatch_threshold_ppm`, parts per million of
 * comparisons: 1000 is 0.1 %). Existing slices get the defaults, which is what history rows
 * written before this migration mean by leaving them out (SliceRecord omits a setting at its
 * default, so those rows, their hashes and the snapshot stay byte for byte as they were).
 */
export class SliceObservation1765000000000 implements MigrationInterface {
  name = 'SliceObservation1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE slices ADD COLUMN watched boolean NOT NULL DEFAULT false`);
    await q.query(
      `ALTER TABLE slices ADD COLUMN shadow_basis_points integer NOT NULL DEFAULT 0
         CONSTRAINT slices_shadow_basis_points_range CHECK (shadow_basis_points BETWEEN 0 AND 10000)`,
    );
    await q.query(
      `ALTER TABLE slices ADD COLUMN mismatch_threshold_ppm integer NOT NULL DEFAULT 1000
         CONSTRAINT slices_mismatch_threshold_ppm_range CHECK (mismatch_threshold_ppm BETWEEN 0 AND 1000000)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE slices DROP COLUMN mismatch_threshold_ppm`);
    await q.query(`ALTER TABLE slices DROP COLUMN shadow_basis_points`);
    await q.query(`ALTER TABLE slices DROP COLUMN watched`);
  }
}
