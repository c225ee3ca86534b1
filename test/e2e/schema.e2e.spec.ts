import { readFileSync } from 'node:fs';
import { printAppSchema, SCHEMA_FILE } from '../../src/common/graphql/print-schema.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';

describe('committed GraphQL schema', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('equals the schema the code builds (run `npm run schema:generate` after changing the API)', () => {
    expect(printAppSchema(t.app)).toBe(readFileSync(SCHEMA_FILE, 'utf8'));
  });
});
