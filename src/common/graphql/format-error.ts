import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { toPublicError } from '../errors/error-mapper.js';

/** Codes that Apollo or GraphQL itself assigns to a client's mistake: passed through as they are. */
const CLIENT_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * Apollo's last look at every error. Errors from resolvers were already mapped by
 * AllExceptionsFilter; this catches what never passed through Nest (field resolvers, scalars,
 * Apollo's own request handling) and makes sure no stack trace or internal message leaves.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
  if (typeof code === 'string' && (CLIENT_ERROR_CODES.has(code) || typeof extensions.errorCode === 'string')) {
    return { ...formatted, extensions };
  }
  const mapped = toPublicError(unwrapResolverError(error));
  return {
    message: mapped.message,
    locations: formatted.locations,
    path: formatted.path,
    extensions: { ...mapped.details, code: mapped.category, errorCode: mapped.code },
  };
}
