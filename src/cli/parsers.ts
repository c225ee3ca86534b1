import { InvalidArgumentError } from 'commander';

/**
 * Argument parsers for commander: they refuse what cannot form a request (exit 2, nothing sent).
 * What the service judges (a percent's range and precision, a key's pattern) is left to it, so the
 * rules live in one place and the CLI cannot drift from them.
 */

/** `5`, `0.25`, `50%`. Range and decimals are checked by the service (0..100, two decimals). */
export function parsePercent(value: string): number {
  const percent = percentText(value);
  if (percent === undefined) throw new InvalidArgumentError('expected a number from 0 to 100, e.g. 5 or 0.25 (two decimals at most).');
  return percent;
}

/** `0.1`, `0.0125`, `2%`: a mismatch threshold. Range and decimals (0..100, four) are checked by the service. */
export function parseFinePercent(value: string): number {
  const percent = percentText(value);
  if (percent === undefined) throw new InvalidArgumentError('expected a number from 0 to 100, e.g. 0.1 or 0.0125 (four decimals at most).');
  return percent;
}

/** The number in `5`, `0.25` or `50%`; undefined when it is not one (shared with the files' `percent`). */
export function percentText(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%?\s*$/.exec(value);
  return match ? Number(match[1]) : undefined;
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

/**
 * For options given several times, each time one or more comma-separated items
 * (`--tag a --tag b`, `--tag a,b`): keys and tags cannot contain a comma, so the split is exact.
 */
export function collectList(value: string, previous: string[] | undefined): string[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new InvalidArgumentError('expected one or more names separated by commas, e.g. staff or staff,beta.');
  return [...(previous ?? []), ...items];
}

/** `kenya=20`, `staff,beta=100%`: the segments that must all match, and the percent they get. */
export interface RuleArgument {
  segments: string[];
  percent: number;
}

/** One `--rule`, appended in order (the first matching rule decides). */
export function collectRule(value: string, previous: RuleArgument[] | undefined): RuleArgument[] {
  const at = value.lastIndexOf('=');
  const segments =
    at < 0
      ? []
      : value
          .slice(0, at)
          .split(',')
          .map((s) => s.trim());
  const percent = at < 0 ? undefined : percentText(value.slice(at + 1));
  if (segments.length === 0 || segments.some((s) => s === '') || percent === undefined) {
    throw new InvalidArgumentError('expected <segment>[,<segment>...]=<percent>, e.g. kenya=20 or staff,beta=100%.');
  }
  return [...(previous ?? []), { segments, percent }];
}

const ROLES = ['ADMIN', 'RELEASE_MANAGER', 'INCIDENT_RESPONDER', 'VIEWER', 'SDK'] as const;
export type Role = (typeof ROLES)[number];

/** `release-manager` (as the README names roles) or `RELEASE_MANAGER` (the GraphQL enum). */
export function parseRole(value: string): Role {
  const role = value.trim().toUpperCase().replace(/-/g, '_');
  if (!(ROLES as readonly string[]).includes(role)) throw new InvalidArgumentError(`expected one of ${ROLES.map((r) => r.toLowerCase().replace(/_/g, '-')).join(', ')}.`);
  return role as Role;
}

/**
 * An instant with its zone: `2026-12-31T18:00:00Z`, `2026-12-31T21:00:00+03:00`. A date alone, or a
 * time without a zone, would be read in someone's local time: refused rather than guessed.
 */
export function parseInstant(value: string): string {
  const text = value.trim();
  const instant = Date.parse(text);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i.test(text) || Number.isNaN(instant)) {
    throw new InvalidArgumentError('expected a date and time with its zone, e.g. 2026-12-31T18:00:00Z or 2026-12-31T21:00:00+03:00.');
  }
  return new Date(instant).toISOString();
}
