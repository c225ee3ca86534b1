import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin, BaseContext, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { Injectable } from '@nestjs/common';
import { type GraphQLFormattedError, getOperationAST } from 'graphql';
import { Counter, Histogram } from 'prom-client';
import { HTTP_STATUS } from '../common/errors/error-codes.js';
import { LATENCY_BUCKETS, MetricsService } from './metrics.service.js';

/** Distinct operation names kept as label values; later new names count as `other`. */
export const MAX_OPERATION_NAMES = 200;

const ANONYMOUS = 'anonymous';
const OTHER = 'other';
/** Operation and type of a request refused before its document was read (no token, bad request). */
const UNKNOWN = 'unknown';
const SUCCESS = 'success';
/** A GraphQL name (the spec's), of a sane length. */
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;
/**
 * The outcomes a client can see: ours (the categories of error-codes.ts) and Apollo's own. Anything
 * else, which formatError should make impossible, is `other`: label values stay a closed set.
 */
const OUTCOMES: ReadonlySet<string> = new Set([...Object.keys(HTTP_STATUS), ...Object.values(ApolloServerErrorCode)]);

type Labels = 'operation' | 'type' | 'outcome';

/**
 * GraphQL operations by name, type and outcome, as an Apollo plugin (registered in
 * graphql.config.ts). The outcome is `success`, or the `extensions.code` of the first error in the
 * response, as the client received it (BAD_USER_INPUT, CONFLICT, FORBIDDEN...): a response with
 * data and errors counts as its first error.
 *
 * Requests refused before Apollo reads the operation (authentication happens in the context
 * function; a malformed request) have no operation: they are counted as `unknown`, not timed.
 */
@Injectable()
export class GraphqlMetrics {
  private readonly operations: Counter<Labels>;
  private readonly duration: Histogram<Labels>;
  /** Operation names seen so far: the label's values. Clients choose names, so they are capped. */
  private readonly names = new Set<string>();

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.operations = new Counter({
      name: 'switchyard_graphql_operations_total',
      help: `GraphQL operations, by operation name ("anonymous" when unnamed, "other" past ${MAX_OPERATION_NAMES} distinct names, "unknown" when refused before the document was read), type (query, mutation; "unknown") and outcome ("success" or the first error's extensions.code).`,
      labelNames: ['operation', 'type', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'switchyard_graphql_operation_duration_seconds',
      help: 'Time Apollo spent on a GraphQL operation, from request start to response (parsing, validation, execution), by operation name, type and outcome. Requests refused before the document was read are not timed.',
      labelNames: ['operation', 'type', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  plugin(): ApolloServerPlugin<BaseContext> {
    return {
      // Apollo's hooks return promises; counting waits for nothing, so each resolves at once.
      requestDidStart: () => {
        const start = performance.now();
        return Promise.resolve({
          willSendResponse: (context) => {
            const labels = this.labelsOf(context);
            this.operations.inc(labels);
            this.duration.observe(labels, (performance.now() - start) / 1000);
            return Promise.resolve();
          },
        });
      },
      // Neither reaches requestDidStart: the context function (authentication) threw, or the
      // HTTP request was not a GraphQL request (no query, CSRF prevention).
      contextCreationDidFail: ({ error }) => Promise.resolve(this.refused(error)),
      invalidRequestWasReceived: ({ error }) => Promise.resolve(this.refused(error)),
    };
  }

  private labelsOf(context: GraphQLRequestContextWillSendResponse<BaseContext>): Record<Labels, string> {
    // Apollo resolves the operation after validation: for a document that failed it, look it up
    // here; for one that did not even parse, only the name the client sent (if any) is known.
    const operation = context.operation ?? (context.document !== undefined ? getOperationAST(context.document, context.request.operationName) : null) ?? null;
    const sentName = context.request.operationName;
    const body = context.response.body;
    const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
    return {
      operation: operation !== null ? this.operationLabel(operation.name?.value) : sentName ? this.operationLabel(sentName) : UNKNOWN,
      type: operation?.operation ?? UNKNOWN,
      outcome: outcomeOf(errors?.[0]),
    };
  }

  private refused(error: Error): void {
    this.operations.inc({ operation: UNKNOWN, type: UNKNOWN, outcome: outcomeOf(error as { extensions?: GraphQLFormattedError['extensions'] }) });
  }

  private operationLabel(name: string | undefined): string {
    if (name === undefined || name === '') return ANONYMOUS;
    if (this.names.has(name)) return name;
    if (!OPERATION_NAME.test(name) || this.names.size >= MAX_OPERATION_NAMES) return OTHER;
    this.names.add(name);
    return name;
  }
}

function outcomeOf(error: { readonly extensions?: GraphQLFormattedError['extensions'] } | undefined): string {
  if (error === undefined) return SUCCESS;
  const code = error.extensions?.code;
  // No code at all is what formatError masks as INTERNAL_SERVER_ERROR.
  if (code === undefined) return 'INTERNAL_SERVER_ERROR';
  return typeof code === 'string' && OUTCOMES.has(code) ? code : OTHER;
}
