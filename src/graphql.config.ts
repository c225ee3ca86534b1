import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLError } from 'graphql';
import type { RequestAuthenticator } from './auth/request-authenticator.js';
import type { AuthenticatedRequest } from './access/auth.decorators.js';
import { AuthException } from './access/auth.exception.js';
import { Permission, roleGrants } from './access/roles.js';
import type { AppConfig } from './config/env.js';
import type { GraphqlMetrics } from './metrics/graphql-metrics.js';
import { HTTP_STATUS } from './common/errors/error-codes.js';
import { toPublicError } from './common/errors/error-mapper.js';
import { formatError } from './common/graphql/format-error.js';
import { storableTextPlugin } from './common/graphql/storable-text.plugin.js';
import { type QueryLimits, queryLimitRules, queryParseOptions } from './common/graphql/query-limits.js';
import { queryLimitsPlugin } from './common/graphql/query-limits.plugin.js';

/**
 * Introspection (and the "Did you mean ...?" hints that leak the schema the same way) needs READ:
 * every role but sdk. SDK tokens are embedded in services and copied around; they evaluate, and
 * have no use for the schema. (The context function below guarantees a principal.)
 */
const INTROSPECTION_PERMISSION = Permission.READ;

/**
 * GraphQL, code first. The schema is built in memory at start-up; the committed
 * `src/schema.graphql` is generated from it (`npm run schema:generate`) and a test fails when
 * the two differ.
 */
export function graphqlOptions(config: AppConfig, authenticator: RequestAuthenticator, metrics: GraphqlMetrics): ApolloDriverConfig {
  const limits: QueryLimits = {
    maxDepth: config.maxQueryDepth,
    maxAliases: config.maxQueryAliases,
    maxDirectives: config.maxQueryDirectives,
    maxTokens: config.maxQueryTokens,
    maxCost: config.maxQueryCost,
  };
  const roleOf = (context: unknown) => (context as { req?: AuthenticatedRequest }).req?.principal?.role;
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
    // No request may stall the service: documents are bounded while parsing (tokens), by
    // validation (depth, aliases, directives, expanded size) and before execution (cost, fields
    // capped per request, introspection by role). docs/query-limits.md.
    parseOptions: queryParseOptions(limits),
    validationRules: queryLimitRules(limits),
    formatError,
    plugins: [
      metrics.plugin(),
      queryLimitsPlugin(limits, {
        mayIntrospect: (context) => {
          const role = roleOf(context);
          return role !== undefined && roleGrants(role, INTROSPECTION_PERMISSION);
        },
        introspectionRefusal: (context) => toGraphQLError(AuthException.introspectionForbidden(roleOf(context) ?? 'unknown', INTROSPECTION_PERMISSION)),
      }),
      // Text PostgreSQL cannot store exactly is refused before any field runs (storable-text.ts).
      storableTextPlugin(),
    ],
    // Every request needs a valid token, whatever it asks for (introspection and __typename
    // included, which no resolver guards): authenticate once here, before parsing.
    context: async ({ req }: { req: AuthenticatedRequest }) => {
      try {
        req.principal = await authenticator.authenticate(req);
      } catch (error) {
        throw toGraphQLError(error);
      }
      return { req };
    },
    // Field resolvers' errors go through the same exception filter as operations'.
    fieldResolverEnhancers: ['filters'],
  };
}

/** An error refused outside any resolver, as the client sees it, with the HTTP status of its category. */
function toGraphQLError(error: unknown): GraphQLError {
  const mapped = toPublicError(error);
  return new GraphQLError(mapped.message, {
    extensions: { ...mapped.details, code: mapped.category, errorCode: mapped.code, http: { status: HTTP_STATUS[mapped.category] } },
  });
}
