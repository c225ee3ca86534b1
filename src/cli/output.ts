import type { CliError } from './errors.js';

/** Where the CLI writes and what it reads: process streams in main.ts, buffers in tests. */
export interface OutputStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * The one way commands print. With `--json`, stdout carries exactly one JSON document (the
 * result, or `{ "error": ... }`) and nothing else; without it, text for people. Advice and errors
 * go to stderr either way.
 */
export class Output {
  constructor(
    private readonly io: CliIo,
    readonly json: boolean,
    /** --verbose: what was sent and answered, on stderr (never the token). */
    readonly verbose = false,
  ) {}

  /** Width tables must fit in: the terminal's, or none when stdout is a pipe or a file. */
  get width(): number | undefined {
    return this.io.stdout.isTTY && this.io.stdout.columns ? this.io.stdout.columns : undefined;
  }

  /** The command's result: `value` as JSON with --json, else the text `human()` renders. */
  result(value: unknown, human: () => string): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else this.io.stdout.write(ensureNewline(human()));
  }

  /** Text as it is, on stdout: a stream of lines another program reads (an export), never mixed with --json. */
  raw(text: string): void {
    this.io.stdout.write(text);
  }

  /** A line for the person at the terminal, on stderr: stdout carries data. */
  note(text: string): void {
    this.io.stderr.write(ensureNewline(text));
  }

  /** A line for --verbose, on stderr, so that stdout (and --json) stays the same with or without it. */
  trace(text: string): void {
    if (this.verbose) this.io.stderr.write(`verbose: ${clean(text)}\n`);
  }

  /** The error and its hint on stderr (unless already printed there); with --json, also as JSON on stdout. */
  error(error: CliError, { stderr = true }: { stderr?: boolean } = {}): void {
    // `[CONFLICT / SLICE_VERSION_CONFLICT]`: the code scripts and logs know it by.
    const codes = [error.code === 'USAGE' ? undefined : error.code, error.errorCode === error.code ? undefined : error.errorCode];
    const shown = codes.filter((c): c is string => c !== undefined);
    const label = shown.length > 0 ? ` [${shown.join(' / ')}]` : '';
    let text = `error${label}: ${clean(error.message)}\n`;
    if (error.hint) text += `hint: ${clean(error.hint)}\n`;
    if (stderr) this.io.stderr.write(text);
    if (this.json) {
      const { code, errorCode, message, hint, exitCode, details } = error;
      this.io.stdout.write(`${JSON.stringify({ error: { ...details, exitCode, code, errorCode: errorCode ?? null, message, hint: hint ?? null } }, null, 2)}\n`);
    }
  }
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

// C0/C1 controls and the bidirectional overrides: text from the service (a reason, a description)
// must not move the cursor, recolour the terminal or reorder what an auditor reads.
// eslint-disable-next-line no-control-regex -- matching control characters is its purpose
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** One line of text that is safe to print in a terminal. */
export function clean(value: string): string {
  return value.replace(UNSAFE, (c) => (c === '\n' || c === '\t' || c === '\r' ? ' ' : '\ufffd'));
}

/** Characters as a terminal counts them (near enough: one per code point). */
function width(text: string): number {
  return [...text].length;
}

function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return max <= 1 ? chars.slice(0, max).join('') : `${chars.slice(0, max - 1).join('')}…`;
}

export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string;
  readonly align?: 'left' | 'right';
  /** May be cut (with …) down to this width when the table is wider than the terminal. */
  readonly shrinkTo?: number;
}

const GAP = '  ';

/**
 * An aligned table with a header row. When `maxWidth` is given and the table is wider, the
 * shrinkable columns are cut, widest first, never below their `shrinkTo`.
 */
export function table<Row>(rows: readonly Row[], columns: readonly Column<Row>[], maxWidth?: number): string {
  const cells = rows.map((row) => columns.map((c) => clean(c.value(row))));
  const widths = columns.map((c, i) => Math.max(width(c.header), ...cells.map((r) => width(r[i]!))));
  if (maxWidth !== undefined) {
    let excess = widths.reduce((a, b) => a + b, 0) + GAP.length * (columns.length - 1) - maxWidth;
    while (excess > 0) {
      // The widest column that may still give some room.
      let pick = -1;
      for (let i = 0; i < columns.length; i++) {
        const min = columns[i]!.shrinkTo;
        if (min !== undefined && widths[i]! > Math.max(min, width(columns[i]!.header)) && (pick < 0 || widths[i]! > widths[pick]!)) pick = i;
      }
      if (pick < 0) break;
      widths[pick]!--;
      excess--;
    }
  }
  const render = (values: readonly string[]) =>
    values
      .map((v, i) => {
        const text = truncate(v, widths[i]!);
        const pad = ' '.repeat(widths[i]! - width(text));
        return columns[i]!.align === 'right' ? pad + text : text + pad;
      })
      .join(GAP)
      .trimEnd();
  return [render(columns.map((c) => c.header)), ...cells.map(render)].join('\n') + '\n';
}

/** Aligned `label  value` lines, indented. */
export function keyValues(pairs: readonly (readonly [string, string])[], indent = '  '): string {
  const w = Math.max(0, ...pairs.map(([k]) => width(k)));
  return pairs.map(([k, v]) => `${indent}${k.padEnd(w)}  ${clean(v)}`.trimEnd()).join('\n') + '\n';
}

export function formatPercent(percent: number): string {
  return `${percent}%`;
}

/** `2026-11-24 13:05:12Z`: UTC, to the second, as auditors compare times across systems. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function formatCount(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

/** `12s ago`, `5m ago`, `3h ago`, `2d ago`: narrow, and what a person wants to know about "last seen". */
export function formatAge(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const seconds = Math.max(0, Math.round((now - at) / 1000)); // a clock ahead of ours is "now"
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

/** `24 h`, `90 min`. */
export function formatMinutes(minutes: number): string {
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

/** `1 slice`, `3 slices`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `1st`, `2nd`, `11th`: which of several repeated flags. */
export function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}
