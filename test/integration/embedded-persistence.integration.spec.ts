import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/env.js';
import { DataDirectoryInUseError, LOCK_FILE } from '../../src/database/data-dir-lock.js';
import { GraphqlClient } from '../utils/graphql-client.js';

const ADMIN = 'sy_persistence_admin_token_0123456789';

/**
 * The embedded engine keeps its data across a clean shutdown and restart (SWITCHYARD_DATA_DIR),
 * and a second start does not re-run migrations or re-create the bootstrap token.
 * Runs on PGlite whatever DATABASE_URL says: that is what it is about.
 */
describe('embedded engine on a data directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-data-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function start() {
    const config = loadConfig({ PORT: '0', SWITCHYARD_DATA_DIR: dir, SWITCHYARD_ADMIN_TOKEN: ADMIN });
    const app = await createApp(config, { logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    return { app, client: new GraphqlClient(`http://127.0.0.1:${port}`, ADMIN) };
  }

  it('keeps slices and history across a graceful restart', async () => {
    const first = await start();
    await first.client.ok('mutation { createSlice(key: "payments.provider.mpesa", percent: 5) { key } }');
    await first.client.ok('mutation { rollback(key: "payments.provider.mpesa", reason: "before restart") { key } }');
    await first.app.close();

    const second = await start();
    try {
      const data = await second.client.ok<{ slice: { state: string; percent: number; version: number }; verifyHistory: { ok: boolean; checkedRows: number } }>(
        '{ slice(key: "payments.provider.mpesa") { state percent version } verifyHistory { ok checkedRows } }',
      );
      expect(data.slice).toEqual({ state: 'ROLLED_BACK', percent: 5, version: 2 });
      // bootstrap token + create + rollback: nothing re-created on the second start.
      expect(data.verifyHistory).toEqual({ ok: true, checkedRows: 3 });
    } finally {
      await second.app.close();
    }
  });

  it('serves one process at a time: a second opener of the directory is refused, and a clean stop frees it', async () => {
    const first = await start();
    try {
      expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
      await expect(start()).rejects.toBeInstanceOf(DataDirectoryInUseError);
      // The refusal did not disturb the one that holds it.
      await first.client.ok('{ verifyHistory { ok } }');
    } finally {
      await first.app.close();
    }
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});
