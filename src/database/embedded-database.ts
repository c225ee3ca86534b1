import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { isInMemoryDataDir } from '../config/env.js';

/** `SWITCHYARD_DATA_DIR` value that keeps the embedded database in memory only. */
export const IN_MEMORY = 'memory:';

/**
 * Opens the embedded PostgreSQL (PGlite) used when no DATABASE_URL is set.
 * The caller owns the instance and must `close()` it on shutdown so the data directory is left
 * consistent.
 */
export async function openEmbeddedDatabase(dataDir: string): Promise<PGlite> {
  if (isInMemoryDataDir(dataDir)) {
    return PGlite.create();
  }
  const path = resolve(dataDir);
  mkdirSync(path, { recursive: true });
  return PGlite.create(path);
}
