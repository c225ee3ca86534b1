import type { ErrorCode } from '../common/errors/error-codes.js';
import { SwitchyardException } from '../common/errors/switchyard.exception.js';

export type FreezeErrorCode = Extract<ErrorCode, `FREEZE_${string}`>;

export class FreezeException extends SwitchyardException {
  override readonly name = 'FreezeException';

  constructor(code: FreezeErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }

  static notFound(key: string): FreezeException {
    return new FreezeException('FREEZE_WINDOW_NOT_FOUND', `No freeze window "${key}".`, { window: key });
  }

  static overrideForbidden(role: string | undefined): FreezeException {
    return new FreezeException('FREEZE_OVERRIDE_FORBIDDEN', 'Only an admin may override a freeze window (or lift one that is on).', { role: role ?? null });
  }
}
