/**
 * Strict Semantic Versioning 2.0.0: parsing and precedence, no dependencies, no allocation when a
 * context value is compared with a compiled constraint value.
 *
 * Strict means the grammar of semver.org and nothing more: `v1.2.3`, `1.2`, `01.2.3`, `1.2.3-01`
 * and surrounding spaces are invalid, and an invalid version matches nothing (the Unleash client
 * specification, `14-constraint-semver-operators.json`: a leading `v` resolves to false).
 * Build metadata is validated but ignored for precedence (`1.2.2+a` equals `1.2.2`).
 * Major, minor and patch above `Number.MAX_SAFE_INTEGER` are refused, as node-semver does.
 */

/** A parsed SemVer 2.0 version. */
export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Pre-release identifiers as written (`['alpha', '1']`); empty for a release. */
  readonly prerelease: readonly string[];
  /** Build metadata identifiers; ignored for precedence. */
  readonly build: readonly string[];
}

// Where `scan` leaves the parts of the last valid version. Single-threaded and non-reentrant, so
// one shared object is safe; it lets the hot path compare a context value without building an
// object for it.
const scratch = { number: 0, major: 0, minor: 0, patch: 0, preStart: -1, preEnd: -1, buildStart: -1 };

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isIdentifierChar(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45; // 0-9 A-Z a-z -
}

/** Scans a numeric identifier (`0` or no leading zero) from `i`, value in `scratch.number`; -1 if none. */
function scanNumber(text: string, i: number, n: number): number {
  const start = i;
  let value = 0;
  while (i < n && isDigit(text.charCodeAt(i))) {
    value = value * 10 + (text.charCodeAt(i) - 48);
    i++;
  }
  if (i === start || (i - start > 1 && text.charCodeAt(start) === 48) || value > Number.MAX_SAFE_INTEGER) {
    return -1;
  }
  scratch.number = value;
  return i;
}

/**
 * Scans dot-separated, non-empty `[0-9A-Za-z-]` identifiers from `i`. Pre-release numeric
 * identifiers may not have leading zeros; build identifiers may. Returns the end, or -1.
 */
function scanIdentifiers(text: string, i: number, n: number, prerelease: boolean): number {
  for (;;) {
    const start = i;
    let allDigits = true;
    while (i < n && isIdentifierChar(text.charCodeAt(i))) {
      if (!isDigit(text.charCodeAt(i))) allDigits = false;
      i++;
    }
    if (i === start) return -1;
    if (prerelease && allDigits && i - start > 1 && text.charCodeAt(start) === 48) return -1;
    if (i < n && text.charCodeAt(i) === 46 /* . */) {
      i++;
      continue;
    }
    return i;
  }
}

/** Validates `text` and records its parts in `scratch`. */
function scan(text: string): boolean {
  const n = text.length;
  let i = scanNumber(text, 0, n);
  if (i < 0 || i >= n || text.charCodeAt(i) !== 46) return false;
  scratch.major = scratch.number;
  i = scanNumber(text, i + 1, n);
  if (i < 0 || i >= n || text.charCodeAt(i) !== 46) return false;
  scratch.minor = scratch.number;
  i = scanNumber(text, i + 1, n);
  if (i < 0) return false;
  scratch.patch = scratch.number;
  scratch.preStart = -1;
  scratch.preEnd = -1;
  scratch.buildStart = -1;
  if (i < n && text.charCodeAt(i) === 45 /* - */) {
    scratch.preStart = i + 1;
    i = scanIdentifiers(text, i + 1, n, true);
    if (i < 0) return false;
    scratch.preEnd = i;
  }
  if (i < n && text.charCodeAt(i) === 43 /* + */) {
    scratch.buildStart = i + 1;
    i = scanIdentifiers(text, i + 1, n, false);
    if (i < 0) return false;
  }
  return i === n;
}

/** True when `text` is a valid SemVer 2.0 version. */
export function isSemver(text: string): boolean {
  return typeof text === 'string' && scan(text);
}

/** Parses a strict SemVer 2.0 version, or returns `null`. */
export function parseSemver(text: string): SemVer | null {
  if (typeof text !== 'string' || !scan(text)) return null;
  return {
    major: scratch.major,
    minor: scratch.minor,
    patch: scratch.patch,
    prerelease: scratch.preStart >= 0 ? text.slice(scratch.preStart, scratch.preEnd).split('.') : [],
    build: scratch.buildStart >= 0 ? text.slice(scratch.buildStart).split('.') : [],
  };
}

function allDigits(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/**
 * SemVer precedence of two pre-release identifiers given as spans: numeric identifiers compare
 * numerically (no leading zeros, so by length then digits: exact at any size) and sort before
 * alphanumeric ones, which compare in ASCII order.
 */
function compareIdentifier(a: string, as: number, ae: number, b: string, bs: number, be: number): number {
  const aNumeric = allDigits(a, as, ae);
  const bNumeric = allDigits(b, bs, be);
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  const aLength = ae - as;
  const bLength = be - bs;
  if (aNumeric && aLength !== bLength) return aLength < bLength ? -1 : 1;
  const common = aLength < bLength ? aLength : bLength;
  for (let k = 0; k < common; k++) {
    const d = a.charCodeAt(as + k) - b.charCodeAt(bs + k);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return aLength === bLength ? 0 : aLength < bLength ? -1 : 1;
}

function compareNumbers(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** Precedence of two parsed versions: -1, 0 or 1. Build metadata is ignored. */
export function compareSemver(a: SemVer, b: SemVer): number {
  const core = compareNumbers(a.major, b.major) || compareNumbers(a.minor, b.minor) || compareNumbers(a.patch, b.patch);
  if (core !== 0) return core;
  const ap = a.prerelease;
  const bp = b.prerelease;
  // A release has higher precedence than any of its pre-releases.
  if (ap.length === 0 || bp.length === 0) {
    return ap.length === bp.length ? 0 : ap.length === 0 ? 1 : -1;
  }
  const common = Math.min(ap.length, bp.length);
  for (let k = 0; k < common; k++) {
    const x = ap[k] as string;
    const y = bp[k] as string;
    const c = compareIdentifier(x, 0, x.length, y, 0, y.length);
    if (c !== 0) return c;
  }
  return compareNumbers(ap.length, bp.length);
}

/**
 * Precedence of the version written in `text` against a parsed version, without allocating:
 * -1, 0 or 1, or `NaN` when `text` is not a valid version (so every comparison with it is false).
 */
export function compareSemverText(text: string, other: SemVer): number {
  if (!scan(text)) return NaN;
  const core = compareNumbers(scratch.major, other.major) || compareNumbers(scratch.minor, other.minor) || compareNumbers(scratch.patch, other.patch);
  if (core !== 0) return core;
  const op = other.prerelease;
  const textIsRelease = scratch.preStart < 0;
  const otherIsRelease = op.length === 0;
  if (textIsRelease || otherIsRelease) {
    return textIsRelease === otherIsRelease ? 0 : textIsRelease ? 1 : -1;
  }
  // Walk `text`'s identifiers in place, pairing each with `other`'s.
  let start = scratch.preStart;
  const end = scratch.preEnd;
  let k = 0;
  while (start < end && k < op.length) {
    let stop = start;
    while (stop < end && text.charCodeAt(stop) !== 46) stop++;
    const id = op[k] as string;
    const c = compareIdentifier(text, start, stop, id, 0, id.length);
    if (c !== 0) return c;
    start = stop + 1;
    k++;
  }
  const textHasMore = start < end;
  const otherHasMore = k < op.length;
  return textHasMore === otherHasMore ? 0 : textHasMore ? 1 : -1;
}
