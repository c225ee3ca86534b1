import type { ErrorCode } from '../common/errors/error-codes.js';
import { SwitchyardException } from '../common/errors/switchyard.exception.js';

export type SegmentErrorCode = Extract<ErrorCode, `SEGMENT_${string}`>;

export class SegmentException extends SwitchyardException {
  override readonly name = 'SegmentException';

  constructor(code: SegmentErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }

  static notFound(key: string): SegmentException {
    return new SegmentException('SEGMENT_NOT_FOUND', `No segment "${key}".`, { segmentKey: key });
  }
}
