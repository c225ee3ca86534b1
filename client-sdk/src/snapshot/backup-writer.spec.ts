import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshotFile, writeFileAtomically } from '../storage/backup-file.js';
import { BackupWriter } from './backup-writer.js';

describe('BackupWriter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-backup-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('coalesces writes that pile up: one at a time, only the newest waiting one is written', async () => {
    const path = join(dir, 'backup.json');
    const written: string[] = [];
    const file = snapshotFile(path);
    const writer = new BackupWriter(
      {
        write: async (text) => {
          written.push(text);
          await file.write(text);
        },
      },
      (e) => {
        throw e;
      },
    );
    for (let i = 1; i <= 100; i++) writer.write(`revision ${i}`);
    await writer.flush();
    expect(written).toEqual(['revision 1', 'revision 100']);
    expect(await readFile(path, 'utf8')).toBe('revision 100');
    expect(await readdir(dir)).toEqual(['backup.json']);
  });

  it('reports a failed write once and goes on with the next one', async () => {
    const errors: unknown[] = [];
    const blocked = join(dir, 'blocked');
    await writeFileAtomically(join(blocked, 'x'), 'x');
    const writer = new BackupWriter(snapshotFile(blocked), (e) => errors.push(e));
    writer.write('a');
    await writer.flush();
    expect(errors).toHaveLength(1);
    writer.write('b');
    await writer.flush();
    expect(errors).toHaveLength(2);
  });
});
