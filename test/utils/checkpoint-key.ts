import { generateKeyPairSync } from 'node:crypto';

/**
 * A checkpoint signing key for services the tests start on a PostgreSQL server, which refuses to
 * start without one (the embedded engine in memory makes its own). One per test process.
 */
export const TEST_CHECKPOINT_KEY = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

/** The environment a test service on `databaseUrl` needs for checkpoints (nothing on the embedded engine). */
export function checkpointEnv(databaseUrl: string | null): Record<string, string> {
  return databaseUrl === null ? {} : { SWITCHYARD_CHECKPOINT_KEY: TEST_CHECKPOINT_KEY };
}
