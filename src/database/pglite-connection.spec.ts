import { PGlite } from '@electric-sql/pglite';
import { isDatabaseUnavailable } from '../common/errors/database-unavailable.js';
import { PgliteConnection, pgliteClientClass } from './pglite-connection.js';

describe('PgliteConnection (node-postgres on the embedded engine)', () => {
  let pglite: PGlite;
  beforeEach(async () => {
    pglite = await PGlite.create();
  });
  afterEach(async () => {
    if (!pglite.closed) await pglite.close();
  });

  it('hands text back exactly as stored, a leading byte order mark included', async () => {
    const client = new (pgliteClientClass(pglite))();
    await client.connect();
    await client.query('CREATE TABLE t (v text, j jsonb)');
    const values = ['\uFEFF', '\uFEFF\uFEFFab', 'e\u0301', '\u{1F600}', '\u202Eevil', ''];
    for (const v of values) await client.query('INSERT INTO t VALUES ($1, $2::jsonb)', [v, JSON.stringify({ v })]);
    const rows = (await client.query<{ v: string; j: { v: string } }>('SELECT v, j FROM t')).rows;
    expect(rows.map((r) => r.v)).toEqual(values);
    expect(rows.map((r) => r.j.v)).toEqual(values);
    await client.end();
  });

  it('keeps queries in order and reports SQL errors to their query only', async () => {
    const client = new (pgliteClientClass(pglite))();
    await client.connect();
    const results = await Promise.allSettled([client.query('SELECT 1 AS n'), client.query('SELECT nope'), client.query('SELECT 3 AS n')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseFulfilledResult<{ rows: { n: number }[] }>).value.rows).toEqual([{ n: 3 }]);
    await client.end();
  });

  it('fails a query on a closed engine as unavailable, and drops failures nobody listens to', async () => {
    const client = new (pgliteClientClass(pglite))();
    await client.connect();
    client.on('error', () => undefined);
    await pglite.close();
    const failure = await client.query('SELECT 1').catch((error: unknown) => error);
    expect(isDatabaseUnavailable(failure)).toBe(true);

    // A connection the pool ended has no listeners left; a message still queued that fails
    // must not become an unhandled 'error' (that would end the process).
    const orphan = new PgliteConnection(pglite);
    orphan.end();
    orphan.query('SELECT 1');
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
});
