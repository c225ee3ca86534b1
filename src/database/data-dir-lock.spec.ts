import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirectoryInUseError, LOCK_FILE, lockDataDirectory } from './data-dir-lock.js';

describe('lockDataDirectory', () => {
  let dir: string;
  let lockFile: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-lock-'));
    lockFile = join(dir, LOCK_FILE);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  /** A file as another process would have left it. */
  const leave = (pid: number, token = 'theirs') => writeFileSync(lockFile, `${pid}\nanother holder\n2026-01-01T00:00:00.000Z\n${token}\n`);

  it('holds the directory until released, and leaves no file behind', () => {
    const release = lockDataDirectory(dir, 'the service');
    expect(readFileSync(lockFile, 'utf8').split('\n').slice(0, 2)).toEqual([String(process.pid), 'the service']);
    expect(() => lockDataDirectory(dir, 'a second opener in this process')).toThrow(DataDirectoryInUseError);
    release();
    expect(existsSync(lockFile)).toBe(false);
    lockDataDirectory(dir, 'again')();
  });

  it('refuses while another live process holds it, naming it', () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(child);
    leave(child.pid!);
    let error: unknown;
    try {
      lockDataDirectory(dir, 'admin:recover');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataDirectoryInUseError);
    expect(error).toMatchObject({ pid: child.pid, holder: 'another holder', lockFile });
    // Refused: the holder's file is untouched.
    expect(readFileSync(lockFile, 'utf8')).toContain('another holder');
  });

  it('takes over a file left by a process that is gone (a crash, kill -9)', () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    leave(gone);
    const release = lockDataDirectory(dir, 'after the crash');
    expect(readFileSync(lockFile, 'utf8')).toContain('after the crash');
    release();
  });

  it('takes over a file with its own process id that it did not write (a restarted container is pid 1 again)', () => {
    leave(process.pid, 'an earlier incarnation');
    lockDataDirectory(dir, 'the new incarnation')();
  });

  it('takes over an unreadable file (a crash while writing it)', () => {
    writeFileSync(lockFile, 'garbage');
    lockDataDirectory(dir, 'x')();
  });

  it('a release after the lock was taken over leaves the new holder alone', () => {
    const release = lockDataDirectory(dir, 'first');
    leave(process.pid, 'someone who took it over');
    release();
    expect(readFileSync(lockFile, 'utf8')).toContain('someone who took it over');
  });
});
