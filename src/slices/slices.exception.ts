import type { ErrorCode } from '../common/errors/error-codes.js';
import { SwitchyardException } from '../common/errors/switchyard.exception.js';

export type SliceErrorCode = Extract<ErrorCode, `SLICE_${string}`>;

export class SliceException extends SwitchyardException {
  override readonly name = 'SliceException';

  constructor(code: SliceErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }

  static notFound(key: string): SliceException {
    return new SliceException('SLICE_NOT_FOUND', `No slice "${key}".`, { sliceKey: key });
  }

  static staleVersion(key: string, expected: number, current: number): SliceException {
    return new SliceException('SLICE_VERSION_CONFLICT', `Slice "${key}" is at version ${current}, not ${expected}: reload it and apply your change again.`, {
      sliceKey: key,
      expectedVersion: expected,
      currentVersion: current,
    });
  }
}
