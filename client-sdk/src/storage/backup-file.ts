/**
 * The backup file: the last snapshot the service sent, so that a host restarted while the control
 * plane is down starts from it instead of from nothing (LEGACY everywhere).
 *
 * Its content is exactly the snapshot endpoint's JSON, so a file saved with
 * `curl -H "authorization: Bearer $TOKEN" $URL/sdk/v1/snapshot > snapshot.json` can serve as a
 * bootstrap file, and a backup file can be inspected with any JSON tool.
 *
 * Writes are atomic (a temporary file in the same directory, flushed to disk, then renamed over
 * the backup): a crash or a full disk leaves the previous backup whole, never half a file. Several
 * processes may share one path (cluster workers): each writes its own temporary file and the last
 * rename wins, which is fine since they all hold snapshots of the same control plane.
 *
 * The adapter of the storage port (ports/storage.ts) for files: `backupFile` and `bootstrap: { file }`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SnapshotStore } from '../ports/storage.js';

/** A snapshot file as a store: read as text (undefined when it does not exist yet), written atomically. */
export function snapshotFile(path: string): SnapshotStore {
  return {
    name: `the file ${path}`,
    read: () => readSnapshotFile(path),
    write: (text) => writeFileAtomically(path, text),
  };
}

/** Reads a snapshot file as text; undefined when there is no such file. Throws on any other failure. */
export async function readSnapshotFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes `text` to `path` atomically (temporary file, fsync, rename). */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    // 0o600: segments can list subject ids; the backup is for this host's process only.
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      // Without the sync, a power loss right after the rename can leave an empty file under the
      // backup's name on some file systems: the rename is durable before the data is.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {});
    throw error;
  }
}
