/**
 * RFC 3339 timestamps (`2024-03-01T09:30:00.123456Z`, `2024-03-01T12:30:00+03:00`) as exact
 * instants, for the DATE_AFTER / DATE_BEFORE operators.
 *
 * Why not `Date.parse`: it accepts many non-RFC forms (`2024-03-01`, `March 1, 2024`), reads
 * offset-less times in local time, and keeps only milliseconds. Here only RFC 3339 `date-time`
 * is accepted (`T`, `t` or a space between date and time, as RFC 3339 §5.6's note and Rust's chrono
 * allow; `Z`/`z` or a numeric offset; any number of fraction digits, kept to the nanosecond and
 * truncated beyond, as chrono does), and instants are compared exactly as (seconds, nanoseconds).
 * A leap second (`23:59:60`) is accepted and sorts between :59 and the next minute, as in chrono.
 */

/** An instant: whole seconds since the Unix epoch, plus nanoseconds (≥ 1e9 only in a leap second). */
export interface Instant {
  readonly seconds: number;
  readonly nanos: number;
}

// Where `scan` leaves the last valid instant (single-threaded, non-reentrant), so that comparing a
// context value allocates nothing: a returned object, or a large number returned from a call V8
// does not inline, would be a heap allocation.
const scratch = { seconds: 0, nanos: 0 };

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(text: string, i: number): number {
  const a = text.charCodeAt(i) - 48;
  const b = text.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1; // from March 1st
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/** Validates `text` as an RFC 3339 date-time and records its instant in `scratch`. */
function scan(text: string): boolean {
  const n = text.length;
  if (n < 20) return false; // shortest: 2024-03-01T09:30:00Z
  const y1 = twoDigits(text, 0);
  const y2 = twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  const sep = text.charCodeAt(10);
  if (
    y1 < 0 ||
    y2 < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60 ||
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 || // -
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58 || // :
    (sep !== 84 && sep !== 116 && sep !== 32) // T t space
  ) {
    return false;
  }
  const year = y1 * 100 + y2;
  if (day > daysInMonth(year, month)) return false;

  let i = 19;
  let nanos = 0;
  if (text.charCodeAt(i) === 46 /* . */) {
    i++;
    const start = i;
    let scale = 100_000_000;
    while (i < n) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      nanos += d * scale; // digits past the ninth add 0 (truncated)
      scale = Math.floor(scale / 10);
      i++;
    }
    if (i === start) return false;
  }

  let offsetSeconds = 0;
  const z = text.charCodeAt(i);
  if (z === 90 || z === 122) {
    // Z or z: UTC
    i++;
  } else if (z === 43 || z === 45) {
    // +HH:MM or -HH:MM
    const oh = twoDigits(text, i + 1);
    const om = twoDigits(text, i + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59 || text.charCodeAt(i + 3) !== 58) return false;
    offsetSeconds = (z === 43 ? 1 : -1) * (oh * 3600 + om * 60);
    i += 6;
  } else {
    return false;
  }
  if (i !== n) return false;

  // A leap second keeps :59 and carries a second's worth of nanoseconds, so it sorts after
  // every other instant of that second and before the next one.
  const leap = second === 60;
  scratch.seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + (leap ? 59 : second) - offsetSeconds;
  scratch.nanos = leap ? nanos + 1_000_000_000 : nanos;
  return true;
}

/** True when `text` is an RFC 3339 date-time with a time zone (`Z` or an offset). */
export function isRfc3339(text: string): boolean {
  return typeof text === 'string' && scan(text);
}

/** Parses an RFC 3339 date-time to an exact instant, or returns `null`. */
export function parseRfc3339(text: string): Instant | null {
  return typeof text === 'string' && scan(text) ? { seconds: scratch.seconds, nanos: scratch.nanos } : null;
}

function compareInstantParts(seconds: number, nanos: number, other: Instant): number {
  if (seconds !== other.seconds) return seconds < other.seconds ? -1 : 1;
  return nanos === other.nanos ? 0 : nanos < other.nanos ? -1 : 1;
}

/**
 * Compares the instant written in `text` with `other` without allocating: -1, 0 or 1, or `NaN`
 * when `text` is not RFC 3339 (so every comparison with it is false).
 */
export function compareRfc3339Text(text: string, other: Instant): number {
  return scan(text) ? compareInstantParts(scratch.seconds, scratch.nanos, other) : NaN;
}

/**
 * Compares an epoch-milliseconds time (the decision's `now`) with `other`: -1, 0 or 1, or `NaN`
 * when `epochMillis` is not finite.
 */
export function compareEpochMillis(epochMillis: number, other: Instant): number {
  if (!Number.isFinite(epochMillis)) return NaN;
  const seconds = Math.floor(epochMillis / 1000);
  const nanos = Math.round((epochMillis - seconds * 1000) * 1_000_000);
  return compareInstantParts(seconds, nanos, other);
}
