import { writeFileSync } from 'node:fs';
import { createApp } from '../app.factory.js';
import { loadConfig } from '../config/env.js';
import { printAppSchema, SCHEMA_FILE } from '../common/graphql/print-schema.js';

/** Writes src/schema.graphql from the code (on a throwaway in-memory database). */
const app = await createApp(loadConfig({ SWITCHYARD_DATA_DIR: 'memory:', SWITCHYARD_ADMIN_TOKEN: 'schema-generation-only-token-000' }), {
  logger: false,
});
try {
  writeFileSync(SCHEMA_FILE, printAppSchema(app));
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
} finally {
  await app.close();
}
