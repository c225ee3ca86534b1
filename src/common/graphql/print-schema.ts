import type { INestApplication } from '@nestjs/common';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema } from 'graphql';

/** Where the committed schema lives, relative to the repository root. */
export const SCHEMA_FILE = 'src/schema.graphql';

const HEADER = '# Generated from the code-first schema by `npm run schema:generate`. Do not edit.\n\n';

/** The running app's schema in its committed form: sorted, so diffs show only real changes. */
export function printAppSchema(app: INestApplication): string {
  const { schema } = app.get(GraphQLSchemaHost);
  return `${HEADER}${printSchema(lexicographicSortSchema(schema))}\n`;
}
