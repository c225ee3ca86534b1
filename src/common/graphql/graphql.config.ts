import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLError } from 'graphql';
import type { ApiTokensService } from '../../auth/api-tokens.service.js';
import type { AuthenticatedRequest } from '../../auth/auth.decorators.js';
import type { AppConfig } from '../../config/env.js';
import type { GraphqlMetrics } from '../../metrics/graphql-metrics.js';
import { HTTP_STATUS } from '../errors/error-codes.js';
import { toPublicError } from '../errors/error-mapper.js';
import { depthLimitRule } from './depth-limit.rule.js';
import { formatError } from './format-error.js';
import { storableTextPlugin } from './storable-text.plugin.js';

/**
 * GraphQL, code first. The schema is built in memory at start-up; the committed
 * `src/schema.graphql` is generated from it (`npm run schema:generate`) and a test fails when
 * the two differ.
 */
export function graphqlOptions(config: AppConfig, tokens: ApiTokensService, metrics: GraphqlMetrics): ApolloDriverConfig {
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
    // Text PostgreSQL cannot store exactly is refused before any field runs (storable-text.ts).
    plugins: [metrics.plugin(), storableTextPlugin()],
    // Every request needs a valid token, whatever it asks for (introspection and __typename
    // included, which no resolver guards): authenticate once here, before parsing.
    context: async ({ req }: { req: AuthenticatedRequest }) => {
      try {
        req.principal = await tokens.authenticateHeader(req.header('authorization'));
      } catch (error) {
        const mapped = toPublicError(error);
        throw new GraphQLError(mapped.message, {
          extensions: { code: mapped.category, errorCode: mapped.code, http: { status: HTTP_STATUS[mapped.category] } },
        });
      }
      return { req };
    },
    // Field resolvers' errors go through the same exception filter as operations'.
    fieldResolverEnhancers: ['filters'],
  };
}
