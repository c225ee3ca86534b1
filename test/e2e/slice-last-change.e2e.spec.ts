import { readFileSync } from 'node:fs';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSlice, uniqueKey } from '../utils/operations.js';

/** Slice.lastChange: who changed a slice last, batched for a whole page; the console's list query within the cost limit. */
describe('Slice.lastChange', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it("names the newest change's actor, action and reason for every slice of a page", async () => {
    const keys = [uniqueKey('last-a'), uniqueKey('last-b'), uniqueKey('last-c')];
    for (const key of keys) await createSlice(app.admin, { key, tags: ['last-change'] });
    const manager = app.as(await app.tokenFor('release-manager', `rm-last-${Date.now()}`));
    await manager.ok('mutation($key: String!) { setRollout(key: $key, percent: 5, reason: "day 1") { key } }', { key: keys[0] });
    const responder = app.as(await app.tokenFor('incident-responder', `ir-last-${Date.now()}`));
    await responder.ok('mutation($key: String!) { rollback(key: $key, reason: "errors") { key } }', { key: keys[1] });

    const page = await app.admin.ok<{ slices: { nodes: { key: string; lastChange: { actor: string; action: string; reason: string | null } | null }[] } }>(
      '{ slices(tag: "last-change", first: 500) { nodes { key lastChange { actor action reason } } } }',
    );
    const byKey = new Map(page.slices.nodes.map((n) => [n.key, n.lastChange]));
    expect(byKey.get(keys[0]!)).toEqual({ actor: expect.stringMatching(/^rm-last-/), action: 'ROLLOUT_SET', reason: 'day 1' });
    expect(byKey.get(keys[1]!)).toEqual({ actor: expect.stringMatching(/^ir-last-/), action: 'SLICE_ROLLED_BACK', reason: 'errors' });
    expect(byKey.get(keys[2]!)).toMatchObject({ actor: 'bootstrap-admin', action: 'SLICE_CREATED' });
  });

  it("the console's list queries (pages of 500, the stats with followers and lastChange) stay under the default cost limit", async () => {
    const source = readFileSync('console/src/slices-api.ts', 'utf8');
    const fields = /const LIST_FIELDS = `([^`]*)`/.exec(source)![1]!;
    const queries = [...source.matchAll(/`\s*(query Console(?:Slices|SliceStats)\(\$after: String\) \{[^`]*)`/g)].map((m) => m[1]!.replace('${LIST_FIELDS}', fields));
    expect(queries).toHaveLength(2);
    for (const query of queries) {
      const response = await app.admin.request(query, { after: null });
      expect(response.errors).toBeUndefined();
    }
  });
});
