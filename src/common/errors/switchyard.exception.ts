import { ERROR_CATEGORIES, type ErrorCategory, type ErrorCode } from './error-codes.js';

/** One offending input field: `field` is a path such as `rules[1].percent` or `constraints[0].values[3]`. */
export interface FieldViolation {
  readonly field: string;
  readonly message: string;
}

/**
 * The base of every error the service means to return. Anything else that escapes is a bug and
 * is reported as INTERNAL_SERVER_ERROR with its message masked.
 */
export class SwitchyardException extends Error {
  override readonly name: string = 'SwitchyardException';
  readonly category: ErrorCategory;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Machine-readable facts for the client (e.g. `currentVersion`); sent as extensions. */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.category = ERROR_CATEGORIES[code];
  }
}

/** Bad input: names every offending field so a client can point at it. */
export class InvalidInputException extends SwitchyardException {
  override readonly name = 'InvalidInputException';

  constructor(readonly violations: readonly FieldViolation[]) {
    const first = violations[0];
    super('INVALID_INPUT', first ? `${first.field}: ${first.message}` : 'invalid input', {
      field: first?.field,
      violations,
    });
  }

  static field(field: string, message: string): InvalidInputException {
    return new InvalidInputException([{ field, message }]);
  }
}
