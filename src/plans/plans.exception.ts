import type { ErrorCode } from '../common/errors/error-codes.js';
import { SwitchyardException } from '../common/errors/switchyard.exception.js';

export type PlanErrorCode = Extract<ErrorCode, `PLAN_${string}`>;

export class PlanException extends SwitchyardException {
  override readonly name = 'PlanException';

  constructor(code: PlanErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }

  static notFound(sliceKey: string): PlanException {
    return new PlanException('PLAN_NOT_FOUND', `Slice "${sliceKey}" has no plan.`, { sliceKey });
  }

  static staleVersion(sliceKey: string, expected: number, current: number): PlanException {
    return new PlanException('PLAN_VERSION_CONFLICT', `The plan of "${sliceKey}" is at version ${current}, not ${expected}: reload it.`, {
      sliceKey,
      expectedVersion: expected,
      currentVersion: current,
    });
  }

  static wrongPhase(sliceKey: string, phase: string, allowed: readonly string[], operation: string): PlanException {
    return new PlanException('PLAN_WRONG_PHASE', `The plan of "${sliceKey}" is ${phase}: ${operation} needs it ${allowed.join(' or ')}.`, {
      sliceKey,
      phase,
      allowed,
    });
  }
}
