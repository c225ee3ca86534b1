import type { ErrorCode } from '../common/errors/error-codes.js';
import { type FieldViolation, SwitchyardException } from '../common/errors/switchyard.exception.js';

export type TrafficErrorCode = Extract<ErrorCode, `TRAFFIC_${string}`>;

/**
 * A usage report refused for what it claims rather than for its shape (that is INVALID_INPUT).
 * Carries `field` and `violations` like InvalidInputException, so a client points at the entry.
 */
export class TrafficException extends SwitchyardException {
  override readonly name = 'TrafficException';

  constructor(code: TrafficErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }

  /** Counts above what one instance can decide in the time the report covers (plausible-counts.ts). */
  static implausible(violations: readonly FieldViolation[], ceiling: bigint): TrafficException {
    const first = violations[0]!;
    return new TrafficException('TRAFFIC_COUNTS_IMPLAUSIBLE', `${first.field}: ${first.message}`, {
      field: first.field,
      violations,
      // A string: the ceiling may exceed 2^53 with a high configured rate.
      maxDecisions: ceiling.toString(),
    });
  }
}
