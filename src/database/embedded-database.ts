import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { isInMemoryDataDir } from '../config/env.js';
import { lockDataDirectory } from './data-dir-lock.js';

/** `SWITCHYARD_DATA_DIR` value that keeps the embedded database in memory only. */
export const IN_MEMORY = 'memory:';

/** The data directory locks of the engines opened here, released by closeEmbeddedDatabase. */
const locks = new WeakMap<PGlite, () => void>();

/**
 * Opens the embedded PostgreSQL (PGlite) used when no DATABASE_URL is set, after taking its data
 * directory's lock (data-dir-lock.ts: one process at a time; DataDirectoryInUseError otherwise).
 * `purpose` says who holds it, for the error another process would get. The caller owns the
 * instance and must close it with closeEmbeddedDatabase, so that the data directory is left
 * consistent and its lock released.
 */
export async function openEmbeddedDatabase(dataDir: string, purpose = 'switchyard'): Promise<PGlite> {
  if (isInMemoryDataDir(dataDir)) {
    return PGlite.create();
  }
  const path = resolve(dataDir);
  mkdirSync(path, { recursive: true });
  const unlock = lockDataDirectory(path, purpose);
  try {
    const pglite = await PGlite.create(path);
    locks.set(pglite, unlock);
    return pglite;
  } catch (error) {
    unlock();
    throw error;
  }
}

/** Closes the engine (unless closed already) and releases its data directory. */
export async function closeEmbeddedDatabase(pglite: PGlite): Promise<void> {
  try {
    if (!pglite.closed) await pglite.close();
  } finally {
    locks.get(pglite)?.();
    locks.delete(pglite);
  }
}
