import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { registerDecorator, type ValidationOptions } from 'class-validator';
import { percentToBasisPoints } from '@switchyard/client-sdk/core';
import { type FieldViolation, InvalidInputException } from '../errors/switchyard.exception.js';

/**
 * The global pipe: every argument object is validated with class-validator, and a refusal
 * becomes INVALID_INPUT (BAD_USER_INPUT) naming each offending field by its path.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    exceptionFactory: (errors: ValidationError[]) => new InvalidInputException(flatten(errors, '')),
  });
}

function flatten(errors: readonly ValidationError[], prefix: string): FieldViolation[] {
  const out: FieldViolation[] = [];
  for (const error of errors) {
    const field = /^\d+$/.test(error.property) ? `${prefix}[${error.property}]` : prefix ? `${prefix}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) out.push({ field, message });
    if (error.children?.length) out.push(...flatten(error.children, field));
  }
  return out;
}

/**
 * A percentage from 0 to 100 with at most four decimals, as parts per million (0.1 -> 1000,
 * 0.0001 -> 1); null for anything else. Exact for the same reason as percentToBasisPoints: the
 * input had at most four decimals iff it is the very double nearest to `ppm / 10000`.
 */
export function percentToPartsPerMillion(percent: number): number | null {
  if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) return null;
  const ppm = Math.round(percent * 10_000);
  return ppm / 10_000 === percent ? ppm + 0 /* -0 -> 0 */ : null;
}

/** A percentage from 0 to 100 with at most four decimals (0.0125 is fine, 0.00125 is not): a mismatch threshold. */
export function IsFinePercent(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isFinePercent',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: '$property must be a percentage from 0 to 100 with at most four decimals', ...options },
      validator: { validate: (value: unknown) => typeof value === 'number' && percentToPartsPerMillion(value) !== null },
    });
}

/** A percentage from 0 to 100 with at most two decimals (0.25 is fine, 0.125 is not). */
export function IsPercent(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isPercent',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: '$property must be a percentage from 0 to 100 with at most two decimals', ...options },
      validator: { validate: (value: unknown) => typeof value === 'number' && percentToBasisPoints(value) !== null },
    });
}
