import { type ArgumentsHost, Catch, Logger } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { GqlArgumentsHost } from '@nestjs/graphql';
import type { Response } from 'express';
import { GraphQLError } from 'graphql';
import { HTTP_STATUS } from './error-codes.js';
import { type PublicError, toPublicError } from './error-mapper.js';
import type { SwitchyardRequest } from '../http/request-id.middleware.js';

/**
 * Renders every error escaping a resolver or controller, through the one mapper.
 *
 * Also why it exists at all: left alone, Nest logs every non-HTTP exception from a resolver as an
 * error before Apollo sees it, so each expected refusal (a CONFLICT, a FORBIDDEN) would be logged
 * as if it were a fault. Here expected errors are not logged; unexpected ones once, with the stack
 * and request id.
 */
@Catch()
export class AllExceptionsFilter implements GqlExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): unknown {
    const mapped = toPublicError(exception);
    if (host.getType<'graphql' | 'http'>() === 'graphql') {
      const gqlHost = GqlArgumentsHost.create(host);
      const req = gqlHost.getContext<{ req?: SwitchyardRequest }>().req;
      this.logIfUnexpected(mapped, exception, req?.requestId, gqlHost.getInfo<{ fieldName?: string }>()?.fieldName);
      return toGraphQLError(mapped);
    }
    const http = host.switchToHttp();
    const req = http.getRequest<SwitchyardRequest>();
    const res = http.getResponse<Response>();
    this.logIfUnexpected(mapped, exception, req.requestId, `${req.method} ${req.path}`);
    if (!res.headersSent) {
      // The GraphQL error shape on plain HTTP too (an oversized or malformed body never reaches
      // Apollo), so a client reads `errors[0].extensions.code` whichever layer refused it.
      res.status(HTTP_STATUS[mapped.category]).json(httpErrorBody(mapped));
    }
    return undefined;
  }

  private logIfUnexpected(mapped: PublicError, exception: unknown, requestId: string | undefined, operation: string | undefined): void {
    if (mapped.category === 'SERVICE_UNAVAILABLE') {
      this.logger.warn({ msg: 'database unavailable', requestId, operation, error: String((exception as Error)?.message ?? exception) });
    } else if (mapped.unexpected) {
      this.logger.error({ msg: 'unexpected error', requestId, operation, error: String((exception as Error)?.message ?? exception) }, (exception as Error)?.stack);
    }
  }
}

/** The body of an HTTP error response: GraphQL's error shape, whichever layer refused. */
export function httpErrorBody(mapped: PublicError) {
  return { errors: [{ message: mapped.message, extensions: { ...mapped.details, code: mapped.category, errorCode: mapped.code } }] };
}

export function toGraphQLError(mapped: PublicError): GraphQLError {
  return new GraphQLError(mapped.message, {
    extensions: { ...mapped.details, code: mapped.category, errorCode: mapped.code },
  });
}
