import { IANAZone } from 'luxon';

/**
 * When a freeze window is on: pure (no I/O, no clock: the instant is always an argument).
 * docs/freeze-windows.md explains the form to release managers.
 *
 * A window is either ONE_OFF (two instants) or RECURRING: it starts at a local time (`at`, "HH:MM")
 * on the local days its selector names (days of the month and/or ISO weekdays, both optional: no
 * selector is every day), and lasts `duration` ("3d", "6h", "30m", "1d12h"). "Days 25 to 27 of
 * every month, all day" is `{ daysOfMonth: [25], at: "00:00", duration: "3d" }` (or days
 * [25, 26, 27] for "1d": occurrences that touch or overlap form one freeze).
 *
 * Local times are resolved in the window's IANA zone (Luxon reads the zone rules) as RFC 5545
 * (iCalendar) and Temporal's "compatible" disambiguation do: a local time that occurs twice (clocks
 * go back) means its first occurrence; one the clocks skip (clocks go forward) is read with the
 * offset before the gap, i.e. it lands as far after the jump as it was after the gap's start.
 * Days ("d") count local calendar days (25 00:00 + 3d is 28 00:00 local even across a DST change);
 * hours and minutes are elapsed time, added after the days.
 */

/** ISO weekday: 1 Monday ... 7 Sunday. */
export type IsoWeekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

export interface Recurrence {
  /** Days of the month the window starts on (1..31); a day a month lacks (31 in April) starts nothing that month. Absent: every day. */
  readonly daysOfMonth?: readonly number[] | null;
  /** ISO weekdays the window starts on (and, with daysOfMonth, both must hold). Absent: every day. */
  readonly weekdays?: readonly number[] | null;
  /** Local start time, "HH:MM" (00:00..23:59). */
  readonly at: string;
  /** "3d", "6h", "30m", "1d12h": days are local calendar days, hours and minutes elapsed time. */
  readonly duration: string;
}

export type FreezeSchedule = { readonly kind: 'ONE_OFF'; readonly from: string; readonly until: string } | ({ readonly kind: 'RECURRING' } & Recurrence);

export interface FreezeWindowSpec {
  /** IANA zone name (Africa/Nairobi): local times and days are read there. */
  readonly timeZone: string;
  readonly schedule: FreezeSchedule;
}

export interface FreezeStatus {
  readonly active: boolean;
  /** When the freeze that holds at the instant ends (touching and overlapping occurrences merged); null when inactive. */
  readonly until: Date | null;
}

/** A parsed duration: local calendar days, then elapsed minutes. */
export interface ParsedDuration {
  readonly days: number;
  readonly minutes: number;
}

/** Limits: beyond them a window is refused as absurd (freeze-window validation). */
export const MAX_DURATION_DAYS = 31;
export const MAX_ONE_OFF_DAYS = 366;
const DURATION_PATTERN = /^(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,6})m)?$/;
const AT_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$/;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** How far nextStart looks ahead: days 31 on a Monday may be 14 months away. */
const LOOKAHEAD_DAYS = 800;
/** The most occurrences one freeze merges while looking for its end (a year of daily ones). */
const MAX_MERGED = 400;

/** "1d12h" -> { days: 1, minutes: 720 }; null when malformed or zero. */
export function parseDuration(text: string): ParsedDuration | null {
  const m = DURATION_PATTERN.exec(text);
  if (m === null || text === '') return null;
  const days = Number(m[1] ?? 0);
  const minutes = Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  if (days === 0 && minutes === 0) return null;
  return { days, minutes };
}

/** "HH:MM" -> minutes after midnight; null when malformed. */
export function parseAt(text: string): number | null {
  const m = AT_PATTERN.exec(text);
  return m === null ? null : Number(m[1]) * 60 + Number(m[2]);
}

export function isKnownTimeZone(name: string): boolean {
  // Luxon accepts offsets such as "UTC+3" elsewhere; a window names a zone with rules (IANA).
  return name.length <= 64 && /^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name) && IANAZone.isValidZone(name);
}

/** One field that is wrong with a window, for InvalidInputException. */
export interface ScheduleProblem {
  readonly field: string;
  readonly message: string;
}

/**
 * Everything wrong with a window, field by field (empty when it is sound): unknown zone, empty or
 * inverted range, absurd duration, empty or out-of-range day lists, bad start time.
 */
export function scheduleProblems(spec: FreezeWindowSpec): ScheduleProblem[] {
  const problems: ScheduleProblem[] = [];
  if (!isKnownTimeZone(spec.timeZone)) problems.push({ field: 'timeZone', message: 'must be an IANA time zone name, e.g. Africa/Nairobi' });
  const s = spec.schedule;
  if (s.kind === 'ONE_OFF') {
    const from = Date.parse(s.from);
    const until = Date.parse(s.until);
    if (!Number.isFinite(from)) problems.push({ field: 'from', message: 'must be an instant' });
    if (!Number.isFinite(until)) problems.push({ field: 'until', message: 'must be an instant' });
    if (Number.isFinite(from) && Number.isFinite(until)) {
      if (until <= from) problems.push({ field: 'until', message: 'must be after from (an empty or inverted range freezes nothing)' });
      else if (until - from > MAX_ONE_OFF_DAYS * DAY_MS) problems.push({ field: 'until', message: `a one-off window lasts at most ${MAX_ONE_OFF_DAYS} days` });
    }
    return problems;
  }
  const days = s.daysOfMonth;
  if (days != null) {
    if (days.length === 0) problems.push({ field: 'recurrence.daysOfMonth', message: 'must not be empty (leave it out for every day)' });
    days.forEach((d, i) => {
      if (!Number.isInteger(d) || d < 1 || d > 31) problems.push({ field: `recurrence.daysOfMonth[${i}]`, message: 'must be a day of the month, 1 to 31' });
    });
  }
  const weekdays = s.weekdays;
  if (weekdays != null) {
    if (weekdays.length === 0) problems.push({ field: 'recurrence.weekdays', message: 'must not be empty (leave it out for every day)' });
    weekdays.forEach((d, i) => {
      if (!Number.isInteger(d) || d < 1 || d > 7) problems.push({ field: `recurrence.weekdays[${i}]`, message: 'must be an ISO weekday, 1 (Monday) to 7' });
    });
  }
  if (parseAt(s.at) === null) problems.push({ field: 'recurrence.at', message: 'must be a local time HH:MM, 00:00 to 23:59' });
  const duration = parseDuration(s.duration);
  if (duration === null) problems.push({ field: 'recurrence.duration', message: 'must be a duration such as 3d, 6h, 30m or 1d12h, above zero' });
  else if (duration.days * 1440 + duration.minutes > MAX_DURATION_DAYS * 1440) {
    problems.push({ field: 'recurrence.duration', message: `must be at most ${MAX_DURATION_DAYS}d` });
  }
  return problems;
}

/** Whether the window is on at `instant`, and until when. The window must be sound (scheduleProblems empty). */
export function activeAt(spec: FreezeWindowSpec, instant: Date): FreezeStatus {
  const t = instant.getTime();
  const s = spec.schedule;
  if (s.kind === 'ONE_OFF') {
    const from = Date.parse(s.from);
    const until = Date.parse(s.until);
    return from <= t && t < until ? { active: true, until: new Date(until) } : { active: false, until: null };
  }
  const r = compile(spec.timeZone, s);
  let end = coveringEnd(r, t);
  if (end === null) return { active: false, until: null };
  // Occurrences that start at or before the end of the freeze so far extend it.
  for (let merged = 0; merged < MAX_MERGED; merged++) {
    const further = coveringEnd(r, end);
    if (further === null) break;
    end = further;
  }
  return { active: true, until: new Date(end) };
}

/**
 * The start of the next freeze strictly after `instant` (a freeze on at `instant` is not it: the
 * one after it is); null when none starts within about two years.
 */
export function nextStart(spec: FreezeWindowSpec, instant: Date): Date | null {
  const s = spec.schedule;
  if (s.kind === 'ONE_OFF') {
    const from = Date.parse(s.from);
    return from > instant.getTime() ? new Date(from) : null;
  }
  const now = activeAt(spec, instant);
  const after = now.active ? now.until!.getTime() : instant.getTime();
  const r = compile(spec.timeZone, s);
  const first = localDay(r.zone, after) - r.spanDays;
  for (let day = first; day <= first + LOOKAHEAD_DAYS; day++) {
    if (!r.matches(day)) continue;
    const start = r.startOf(day);
    if (start > after) return new Date(start);
  }
  return null;
}

/** A recurrence ready to evaluate: day numbers are days since 1970-01-01 in local calendar terms. */
interface CompiledRecurrence {
  readonly zone: IANAZone;
  /** How many local days before an instant an occurrence covering it may have started. */
  readonly spanDays: number;
  matches(day: number): boolean;
  startOf(day: number): number;
  endOf(day: number): number;
}

function compile(timeZone: string, s: Recurrence): CompiledRecurrence {
  const zone = IANAZone.create(timeZone);
  const at = parseAt(s.at);
  const duration = parseDuration(s.duration);
  if (at === null || duration === null || !zone.isValid) throw new RangeError('unsound freeze window: validate it with scheduleProblems first');
  const days = s.daysOfMonth == null ? null : new Set(s.daysOfMonth);
  const weekdays = s.weekdays == null ? null : new Set(s.weekdays);
  // Merging occurrences asks for the same days again: each is resolved once per evaluation.
  const memo = new Map<number, number>();
  const resolved = (day: number): number => {
    let t = memo.get(day);
    if (t === undefined) memo.set(day, (t = resolveLocal(zone, day, at)));
    return t;
  };
  return {
    zone,
    // Days, plus the elapsed part in days, plus one for a start shifted by a DST gap.
    spanDays: duration.days + Math.ceil(duration.minutes / 1440) + 1,
    matches: (day) => {
      const date = new Date(day * DAY_MS);
      // getUTCDay: 0 Sunday; ISO: 7 Sunday.
      return (days === null || days.has(date.getUTCDate())) && (weekdays === null || weekdays.has(date.getUTCDay() || 7));
    },
    startOf: (day) => resolved(day),
    endOf: (day) => resolved(day + duration.days) + duration.minutes * MINUTE_MS,
  };
}

/** The latest end among occurrences that cover `t` (start <= t < end); null when none does. */
function coveringEnd(r: CompiledRecurrence, t: number): number | null {
  let end: number | null = null;
  const today = localDay(r.zone, t);
  for (let day = today - r.spanDays; day <= today + 1; day++) {
    if (!r.matches(day)) continue;
    const start = r.startOf(day);
    const stop = r.endOf(day);
    if (start <= t && t < stop && (end === null || stop > end)) end = stop;
  }
  return end;
}

/** The local calendar day (days since 1970-01-01) of instant `t` in the zone. */
function localDay(zone: IANAZone, t: number): number {
  return Math.floor((t + zone.offset(t) * MINUTE_MS) / DAY_MS);
}

/**
 * The instant of local day `day` at `minutes` after midnight in the zone (Luxon's zone rules give
 * the offsets): the first of two when the clocks go back, the offset before the gap when they go
 * forward (RFC 5545). Assumes at most one offset change within a day either side, as every zone has.
 */
function resolveLocal(zone: IANAZone, day: number, minutes: number): number {
  const wall = day * DAY_MS + minutes * MINUTE_MS;
  const before = zone.offset(wall - DAY_MS);
  const after = zone.offset(wall + DAY_MS);
  // An instant whose offset is the one it was computed with shows this wall time.
  const shown = [before, after].map((o) => wall - o * MINUTE_MS).filter((t, i) => zone.offset(t) === [before, after][i]);
  return shown.length > 0 ? Math.min(...shown) : wall - before * MINUTE_MS;
}
