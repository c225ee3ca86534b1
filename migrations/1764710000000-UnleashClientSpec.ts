import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Unleash client specification each Unleash SDK instance declared (its `Unleash-Client-Spec`
 * header) when it was last served: which form of each slice it holds, exact or conservative
 * (src/compat/unleash/unleash-constraints.ts). Written with `revision` and `last_synced_at`, by the
 * same rule; NULL when none was declared or the instance was never served. Only strict SemVer
 * versions are stored (the service checks them), hence the bound.
 */
export class UnleashClientSpec1764710000000 implements MigrationInterface {
  name = 'UnleashClientSpec1764710000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sdk_instances ADD COLUMN client_spec text CHECK (char_length(client_spec) <= 64)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sdk_instances DROP COLUMN client_spec`);
  }
}
