import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One process at a time on an embedded data directory. PGlite is PostgreSQL in single-user mode
 * inside this process, with no lock of its own: a second process opening the same directory (a
 * second service, `npm run admin:recover` or `migration:run` beside a running service) would
 * write over the first one's files. So whoever opens it first leaves its process id in
 * `switchyard.pid` there (as PostgreSQL does with postmaster.pid), and removes it on a clean close.
 *
 * A file left by a process that is gone (a crash, `kill -9`) is stale and taken over. A file that
 * names this very process's id but was not written by it is stale too: after a container
 * restart, the new service is often given the same id (1) as the old one. What is not caught: a
 * stale file whose id now belongs to some unrelated live process; the error says to remove the
 * file by hand then, as PostgreSQL's does.
 */

export const LOCK_FILE = 'switchyard.pid';

export class DataDirectoryInUseError extends Error {
  override readonly name = 'DataDirectoryInUseError';

  constructor(
    readonly lockFile: string,
    readonly pid: number,
    readonly holder: string,
  ) {
    super(
      `The embedded data directory is in use by process ${pid} (${holder}): the embedded engine (PGlite) serves one process at a time. ` +
        `Stop that process first. If no such process runs any more, remove ${lockFile}.`,
    );
  }
}

/** The locks this process holds, by file: tells "my own lock" from "a stale file with my pid". */
const held = new Map<string, string>();

/**
 * Takes the lock of `dataDir` for this process (`purpose` says who holds it: the service, a
 * script), or throws DataDirectoryInUseError. Returns the function that releases it.
 */
export function lockDataDirectory(dataDir: string, purpose: string): () => void {
  const file = join(dataDir, LOCK_FILE);
  const token = randomUUID();
  const content = `${process.pid}\n${purpose}\n${new Date().toISOString()}\n${token}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, content, { flag: 'wx', mode: 0o644 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const existing = readLock(file);
    if (existing !== null && isHeld(file, existing)) throw new DataDirectoryInUseError(file, existing.pid, existing.purpose);
    // Stale (or unreadable: a crash while writing it): take it over, once.
    try {
      unlinkSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  held.set(file, token);
  return () => {
    if (held.get(file) !== token) return;
    held.delete(file);
    // Only our own file: never one a later process wrote after taking ours over as stale.
    if (readLock(file)?.token === token) unlinkSync(file);
  };
}

interface LockContent {
  readonly pid: number;
  readonly purpose: string;
  readonly token: string;
}

function readLock(file: string): LockContent | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const [pid, purpose = 'unknown', , token = ''] = text.split('\n');
  const id = Number(pid);
  return Number.isSafeInteger(id) && id > 0 ? { pid: id, purpose, token } : null;
}

function isHeld(file: string, lock: LockContent): boolean {
  if (lock.pid === process.pid) return held.get(file) === lock.token;
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
