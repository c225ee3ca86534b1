import { InvalidArgumentError } from 'commander';

/**
 * Argument parsers for commander: they refuse what cannot form a request (exit 2, nothing sent).
 * What the service judges (a percent's range and precision, a key's pattern) is left to it, so the
 * rules live in one place and the CLI cannot drift from them.
 */

/** `5`, `0.25`, `50%`. Range and decimals are checked by the service (0..100, two decimals). */
export function parsePercent(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%?\s*$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected a number from 0 to 100, e.g. 5 or 0.25 (two decimals at most).');
  return Number(match[1]);
}

export function parsePositiveInt(value: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a whole number, 1 or more.');
  }
  return Number(value);
}

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError('expected a number of seconds, more than 0 and at most 3600.');
  return n;
}

/** Changes on money say why: a blank reason is refused here rather than by the service. */
export function parseReason(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('say why (it is recorded in history), e.g. --reason "error rate 12 % on v2".');
  return value;
}

const STATES = ['ACTIVE', 'ROLLED_BACK', 'ARCHIVED'] as const;
export type SliceState = (typeof STATES)[number];

export function parseState(value: string): SliceState {
  const state = value.trim().toUpperCase().replace(/-/g, '_');
  if (!(STATES as readonly string[]).includes(state)) throw new InvalidArgumentError(`expected one of ${STATES.join(', ')}.`);
  return state as SliceState;
}
