import { HttpException } from '@nestjs/common';
import { ERROR_CATEGORIES, type ErrorCategory, type ErrorCode } from './error-codes.js';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { SwitchyardException } from './switchyard.exception.js';

/** What a client is told about an error: the one shape both GraphQL and REST render. */
export interface PublicError {
  readonly category: ErrorCategory;
  readonly code: ErrorCode;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
  /** True when nobody expected it: log it (once) with its stack; the client sees a masked message. */
  readonly unexpected: boolean;
}

const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: 'INVALID_INPUT',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'ROUTE_NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
};

/**
 * The ONLY place that turns an error into what a client sees. Domain errors keep their code and
 * message; unreachable databases become SERVICE_UNAVAILABLE; anything else is INTERNAL with a
 * masked message (its text and stack go to the log, never to the client).
 */
export function toPublicError(error: unknown): PublicError {
  if (error instanceof SwitchyardException) {
    return { category: error.category, code: error.code, message: error.message, details: error.details, unexpected: false };
  }
  if (isDatabaseUnavailable(error)) {
    return publicError('DATABASE_UNAVAILABLE', 'The database is unavailable; nothing was changed. Retry shortly.');
  }
  if (error instanceof HttpException) {
    const code = HTTP_STATUS_CODES[error.getStatus()];
    if (code !== undefined) return publicError(code, error.message);
  }
  // body-parser's errors (too large, malformed JSON) carry a status and an `expose` flag.
  const status = (error as { status?: unknown; expose?: unknown } | null)?.status;
  if (typeof status === 'number' && (error as { expose?: unknown }).expose === true) {
    const code = HTTP_STATUS_CODES[status];
    if (code !== undefined) return publicError(code, (error as Error).message);
  }
  return { ...publicError('INTERNAL', 'Internal server error'), unexpected: true };
}

function publicError(code: ErrorCode, message: string): PublicError {
  return { category: ERROR_CATEGORIES[code], code, message, details: {}, unexpected: false };
}
