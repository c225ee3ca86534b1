import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { AppConfig } from '../../config/env.js';
import { depthLimitRule } from './depth-limit.rule.js';
import { formatError } from './format-error.js';

/**
 * GraphQL, code first. The schema is built in memory at start-up; the committed
 * `src/schema.graphql` is generated from it (`npm run schema:generate`) and a test fails when
 * the two differ.
 */
export function graphqlOptions(config: AppConfig): ApolloDriverConfig {
  return {
    driver: ApolloDriver,
    path: '/graphql',
    autoSchemaFile: true,
    sortSchema: true,
    // Apollo's CSRF prevention stays on: a POST with content-type application/json passes.
    csrfPrevention: true,
    playground: false,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    validationRules: [depthLimitRule(config.maxQueryDepth)],
    formatError,
    context: ({ req }: { req: unknown }) => ({ req }),
    // Field resolvers' errors go through the same exception filter as operations'.
    fieldResolverEnhancers: ['filters'],
  };
}
