import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSnapshotFile, snapshotFile, writeFileAtomically } from './backup-file.js';

describe('backup file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-backup-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads undefined for a missing file and the text of an existing one', async () => {
    expect(await readSnapshotFile(join(dir, 'none.json'))).toBeUndefined();
    await writeFile(join(dir, 'a.json'), '{"revision":1}');
    expect(await readSnapshotFile(join(dir, 'a.json'))).toBe('{"revision":1}');
  });

  it('is a snapshot store: reads what it writes, undefined before the first write', async () => {
    const store = snapshotFile(join(dir, 'state', 'backup.json'));
    expect(await store.read()).toBeUndefined();
    await store.write('{"revision":2}');
    expect(await store.read()).toBe('{"revision":2}');
    expect(store.name).toContain(join(dir, 'state', 'backup.json'));
  });

  it('throws on failures other than a missing file', async () => {
    await expect(readSnapshotFile(dir)).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('writes atomically: replaces the file, leaves no temporary file, creates the directory, mode 0600', async () => {
    const path = join(dir, 'nested', 'backup.json');
    await writeFileAtomically(path, 'first');
    await writeFileAtomically(path, 'second');
    expect(await readFile(path, 'utf8')).toBe('second');
    expect(await readdir(join(dir, 'nested'))).toEqual(['backup.json']);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('keeps the previous file whole and removes its temporary file when a write fails', async () => {
    const path = join(dir, 'backup.json');
    await writeFileAtomically(path, 'good');
    // Renaming a file over a non-empty directory fails after the temporary file was written.
    const blocked = join(dir, 'blocked');
    await writeFileAtomically(join(blocked, 'x'), 'x');
    await expect(writeFileAtomically(blocked, 'new')).rejects.toThrow();
    expect(await readFile(path, 'utf8')).toBe('good');
    expect((await readdir(dir)).sort()).toEqual(['backup.json', 'blocked']);
  });
});
