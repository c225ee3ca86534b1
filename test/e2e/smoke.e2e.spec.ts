import { createTestApp, type TestApp } from '../utils/create-test-app.js';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates a slice and reads it back', async () => {
    const created = await t.admin.ok<{ createSlice: { key: string; percent: number; version: number } }>(
      'mutation { createSlice(key: "api.get-transactions", percent: 5) { key percent version } }',
    );
    expect(created.createSlice).toEqual({ key: 'api.get-transactions', percent: 5, version: 1 });
    const read = await t.admin.ok<{ slice: { state: string } }>('{ slice(key: "api.get-transactions") { state } }');
    expect(read.slice.state).toBe('ACTIVE');
  });
});
