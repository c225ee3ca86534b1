/**
 * Structural equality and a structural diff of two results, for shadow comparison
 * (docs/outcomes.md, "Shadow comparison"). Pure, no I/O.
 *
 * What "structurally equal" means here (the default `equal` of `compare`), chosen for the values
 * handlers return (parsed JSON, plain objects, class instances holding data):
 *  - primitives by value; NaN equals NaN; 0 equals -0;
 *  - Dates by their time; Maps and Sets by their entries in order; arrays element by element;
 *  - other objects by their own enumerable string keys, whatever their class; a key whose value is
 *    `undefined` counts as absent (as it would once serialised to JSON);
 *  - below MAX_DEPTH levels (and so for cyclic values) by identity: bounded work, never a stack overflow.
 *
 * The diff lists the differing places as JSON-path lines, `$.balance: 100 ≠ 101`, the LEGACY
 * result on the left and the NEW one on the right whichever was served, `(absent)` for a missing
 * key or element; each value rendered as JSON cut at MAX_VALUE_CHARS, the whole cut at `maxChars`.
 */

/** The longest diff a mismatch sample carries (docs/outcomes.md). */
export const MAX_DIFF_CHARS = 4096;
/** Deeper than this, values are compared by identity. */
export const MAX_DEPTH = 32;
/** A value in a diff line is cut after this many characters. */
const MAX_VALUE_CHARS = 200;
const ABSENT: unique symbol = Symbol('absent');

type Comparable = unknown;

/** True when `a` and `b` are structurally equal (see the module comment). Never throws on plain data; a throwing getter propagates. */
export function structuralEqual(a: Comparable, b: Comparable): boolean {
  return equalAt(a, b, 0);
}

function equalAt(a: Comparable, b: Comparable, depth: number): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a !== a && b !== b; // NaN
  if (depth >= MAX_DEPTH) return false;
  const left = comparableForm(a);
  const right = comparableForm(b);
  if (left instanceof Date || right instanceof Date) {
    return left instanceof Date && right instanceof Date && (left.getTime() === right.getTime() || (Number.isNaN(left.getTime()) && Number.isNaN(right.getTime())));
  }
  if (Array.isArray(left) || Array.isArray(right)) {
    if (!Array.isArray(left) || !Array.isArray(right) || left.length !== right.length) return false;
    for (let i = 0; i < left.length; i++) if (!equalAt(left[i], right[i], depth + 1)) return false;
    return true;
  }
  const l = left as Record<string, unknown>;
  const r = right as Record<string, unknown>;
  let defined = 0;
  for (const key of Object.keys(l)) {
    const value = l[key];
    if (value === undefined) continue;
    defined++;
    if (!Object.prototype.hasOwnProperty.call(r, key) || !equalAt(value, r[key], depth + 1)) return false;
  }
  for (const key of Object.keys(r)) if (r[key] !== undefined) defined--;
  return defined === 0;
}

/** Maps and Sets as arrays of their entries; everything else as it is. */
function comparableForm(value: object): object {
  if (value instanceof Map) return [...(value as Map<unknown, unknown>).entries()];
  if (value instanceof Set) return [...(value as Set<unknown>).values()];
  return value;
}

/**
 * The places where `legacy` and `next` differ, one `path: legacy ≠ new` line each, joined with
 * newlines and cut to at most `maxChars` characters (ending with `…` when cut). Empty when they are
 * structurally equal. Stops walking once the limit is reached.
 */
export function structuralDiff(legacy: Comparable, next: Comparable, maxChars = MAX_DIFF_CHARS): string {
  const out = { text: '', full: false, maxChars };
  diffAt(legacy, next, '$', 0, out);
  return out.text;
}

interface DiffOutput {
  text: string;
  full: boolean;
  readonly maxChars: number;
}

function diffAt(a: unknown, b: unknown, path: string, depth: number, out: DiffOutput): void {
  if (out.full) return;
  if (a === ABSENT || b === ABSENT || typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || depth >= MAX_DEPTH) {
    if (!(a !== ABSENT && b !== ABSENT && equalAt(a, b, depth))) line(out, `${path}: ${render(a)} ≠ ${render(b)}`);
    return;
  }
  const left = comparableForm(a);
  const right = comparableForm(b);
  const leftArray = Array.isArray(left);
  if (left instanceof Date || right instanceof Date || leftArray !== Array.isArray(right)) {
    if (!equalAt(left, right, depth)) line(out, `${path}: ${render(a)} ≠ ${render(b)}`);
    return;
  }
  if (leftArray) {
    const l = left as unknown[];
    const r = right as unknown[];
    for (let i = 0; i < Math.max(l.length, r.length) && !out.full; i++) {
      diffAt(i < l.length ? l[i] : ABSENT, i < r.length ? r[i] : ABSENT, `${path}[${i}]`, depth + 1, out);
    }
    return;
  }
  const l = left as Record<string, unknown>;
  const r = right as Record<string, unknown>;
  const keys = new Set([...Object.keys(l), ...Object.keys(r)]);
  for (const key of keys) {
    if (out.full) return;
    const lv = l[key] === undefined ? ABSENT : l[key];
    const rv = r[key] === undefined ? ABSENT : r[key];
    if (lv === ABSENT && rv === ABSENT) continue;
    diffAt(lv, rv, path + pathStep(key), depth + 1, out);
  }
}

function line(out: DiffOutput, text: string): void {
  const next = out.text === '' ? text : `${out.text}\n${text}`;
  if (next.length <= out.maxChars) {
    out.text = next;
    return;
  }
  out.text = cut(next, out.maxChars);
  out.full = true;
}

/** `text` cut to at most `max` characters, ending with `…`, never between the halves of a surrogate pair. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function pathStep(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** A value as it appears in a diff line: JSON where possible, cut at MAX_VALUE_CHARS. */
function render(value: unknown): string {
  if (value === ABSENT) return '(absent)';
  let text: string;
  try {
    if (value === undefined) text = 'undefined';
    else if (typeof value === 'bigint') text = `${value}n`;
    else if (typeof value === 'function') text = `[function ${value.name || 'anonymous'}]`;
    else if (typeof value === 'symbol') text = value.toString();
    else if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
    else {
      // undefined for what JSON cannot say (a value whose toJSON returns undefined)
      const json: string | undefined = JSON.stringify(value instanceof Map || value instanceof Set ? comparableForm(value) : value, replacer);
      text = json ?? 'undefined';
    }
  } catch {
    // A cycle, a throwing toJSON or getter: the type, at least.
    text = Object.prototype.toString.call(value);
  }
  return cut(text, MAX_VALUE_CHARS);
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Map || value instanceof Set) return comparableForm(value);
  return value;
}
