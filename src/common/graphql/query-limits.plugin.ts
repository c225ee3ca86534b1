import type { ApolloServerPlugin, BaseContext, GraphQLRequestContextDidResolveOperation, GraphQLRequestListener } from '@apollo/server';
import { ApolloServerPluginDisableSuggestions } from '@apollo/server/plugin/disableSuggestions';
import { GraphQLError, getVariableValues, NoSchemaIntrospectionCustomRule, validate } from 'graphql';
// Not re-exported by graphql's index: the one error OverlappingFieldsCanBeMerged throws when its
// work budget runs out. Matched by identity (the same module instance Apollo's validate uses).
import { validationAbortedError } from 'graphql/validation/validationAbortedError.js';
import { measureCost } from './query-cost.js';
import { exceedsTokenLimit, type QueryLimits, queryRefusal } from './query-limits.js';

/** What the plugin needs to know about the caller (graphql.config.ts answers from the token's role). */
export interface QueryLimitsPolicy {
  /** May this caller read the schema: introspection, and "Did you mean ...?" in validation errors. */
  mayIntrospect(context: BaseContext): boolean;
  /** The refusal of introspection to a caller who may not (a coded FORBIDDEN). */
  introspectionRefusal(context: BaseContext): GraphQLError;
}

/**
 * The per-request half of the query limits (the per-document half is queryLimitRules, run as
 * validation rules): after the document is validated and before anything executes, it refuses
 * introspection to callers who may not introspect, counts the fields that are capped per request
 * and weighs the operation with its variables (query-cost.ts). It also names the refusals that
 * graphql-js makes without a code of its own (the token limit while parsing, the overlapping-fields
 * rule's work budget), and hides field suggestions from callers who may not introspect.
 *
 * Apollo caches validated documents and skips validation for them, never this: the checks that
 * depend on the caller or on variables run on every request.
 */
export function queryLimitsPlugin(limits: QueryLimits, policy: QueryLimitsPolicy): ApolloServerPlugin<BaseContext> {
  const hideSuggestions = ApolloServerPluginDisableSuggestions();
  return {
    async requestDidStart(start) {
      const mayIntrospect = policy.mayIntrospect(start.contextValue);
      const hidden = mayIntrospect ? undefined : await hideSuggestions.requestDidStart?.(start);
      const listener: GraphQLRequestListener<BaseContext> = {
        // Apollo's hooks return promises: `async` makes a refusal thrown here this one's rejection.
        // eslint-disable-next-line @typescript-eslint/require-await -- nothing to wait for; see above
        async didResolveOperation(context) {
          if (!mayIntrospect) refuseIntrospection(context, policy);
          refuseTooCostly(context, limits);
        },
        didEncounterErrors({ errors, source }) {
          for (const error of errors) {
            if (error.extensions.errorCode !== undefined) continue;
            const code = error.extensions.code;
            const extensions = error.extensions as Record<string, unknown>;
            if (code === 'GRAPHQL_PARSE_FAILED' && source !== undefined && exceedsTokenLimit(source, limits.maxTokens)) {
              Object.assign(extensions, { errorCode: 'TOO_MANY_TOKENS', limit: limits.maxTokens });
            } else if (code === 'GRAPHQL_VALIDATION_FAILED' && error.originalError === validationAbortedError) {
              Object.assign(extensions, { errorCode: 'QUERY_TOO_COMPLEX' });
            }
          }
          return Promise.resolve();
        },
      };
      const hideHints = hidden?.validationDidStart?.bind(hidden);
      if (hideHints !== undefined) listener.validationDidStart = hideHints;
      return listener;
    },
  };
}

/** graphql-js's rule that refuses __schema and __type (not __typename): one walk of the document. */
function refuseIntrospection(context: GraphQLRequestContextDidResolveOperation<BaseContext>, policy: QueryLimitsPolicy): void {
  if (validate(context.schema, context.document, [NoSchemaIntrospectionCustomRule], { maxErrors: 1 }).length > 0) {
    throw policy.introspectionRefusal(context.contextValue);
  }
}

function refuseTooCostly(context: GraphQLRequestContextDidResolveOperation<BaseContext>, limits: QueryLimits): void {
  const operation = context.operation;
  if (operation === undefined) return; // Apollo refuses the request itself: nothing will run
  const variables = context.request.variables ?? {};
  // With variables that do not fit the operation, execution refuses them (BAD_USER_INPUT) before
  // any resolver runs: leave that answer to it.
  if (getVariableValues(context.schema, operation.variableDefinitions ?? [], variables).errors !== undefined) return;
  const verdict = measureCost({ schema: context.schema, document: context.document, operation, variables, maxCost: limits.maxCost });
  if (verdict.ok) return;
  if (verdict.reason === 'FIELD_LIMIT_EXCEEDED') {
    throw queryRefusal('FIELD_LIMIT_EXCEEDED', `${verdict.field} may be asked for at most ${verdict.limit} time(s) per request.`, {
      field: verdict.field,
      limit: verdict.limit,
    });
  }
  throw queryRefusal(
    'QUERY_TOO_COMPLEX',
    verdict.cost === null
      ? 'The cost of this operation could not be estimated.'
      : `This operation would cost ${verdict.cost}; the limit is ${limits.maxCost}. Ask for smaller pages or fewer fields.`,
    { limit: limits.maxCost, ...(verdict.cost !== null ? { cost: verdict.cost } : {}) },
  );
}
