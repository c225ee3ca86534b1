/**
 * Decimal numbers for the NUM_* operators: one grammar for constraint values and context values.
 *
 * `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?` is what Rust's `f64::from_str`,
 * Java's `Double.parseDouble` and JavaScript's `Number` all read the same way. Their extras are
 * refused, because they disagree: `Number` reads `""` and `"  "` as 0 and takes `0x10` and
 * `Infinity`; Rust takes `inf` and `NaN`; Java trims spaces and takes `1d`.
 *
 * Values with at most 15 significant digits and a decimal exponent within ±22 (nearly every value
 * a context carries) are converted here, exactly: the digits form an integer below 2^53 and
 * 10^0..10^22 are exact doubles, so one multiplication or division is correctly rounded (Clinger's
 * fast path, as in every strtod). This avoids `Number(text)`, which allocates a heap number for
 * every non-integer. Longer values fall back to `Number`, which reads the same grammar identically.
 */

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/** Where {@link scanDecimal} leaves its result (single-threaded, non-reentrant: no allocation). */
export const decimalResult = { value: 0 };

function digitAt(text: string, i: number): number {
  const d = text.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1; // NaN (past the end) fails both tests
}

/**
 * Validates `text` against the decimal grammar and, when valid, stores its value in
 * {@link decimalResult}. Allocation-free on the fast path; see the module comment.
 */
export function scanDecimal(text: string): boolean {
  const n = text.length;
  let i = 0;
  const first = text.charCodeAt(0);
  const negative = first === 45; // -
  if (negative || first === 43 /* + */) i++;

  let mantissa = 0; // significant digits, as long as there are at most 15
  let significant = 0;
  let exponent = 0;
  let digits = 0;
  let exact = true;
  let d: number;
  while ((d = digitAt(text, i)) >= 0) {
    digits++;
    i++;
    if (mantissa === 0 && d === 0) continue; // leading zero
    if (significant === 15) {
      exact = false; // too many digits for the fast path: `Number` reads it below
      continue;
    }
    mantissa = mantissa * 10 + d;
    significant++;
  }
  if (text.charCodeAt(i) === 46 /* . */) {
    i++;
    while ((d = digitAt(text, i)) >= 0) {
      digits++;
      i++;
      if (mantissa === 0 && d === 0) {
        exponent--;
        continue;
      }
      if (significant === 15) {
        exact = false;
        continue;
      }
      mantissa = mantissa * 10 + d;
      significant++;
      exponent--;
    }
  }
  if (digits === 0) return false;

  const e = text.charCodeAt(i);
  if (e === 101 || e === 69 /* e E */) {
    i++;
    const sign = text.charCodeAt(i);
    const negativeExponent = sign === 45;
    if (negativeExponent || sign === 43) i++;
    let value = 0;
    const start = i;
    while ((d = digitAt(text, i)) >= 0) {
      if (value < 100_000) value = value * 10 + d; // beyond that the result is 0 or Infinity anyway
      i++;
    }
    if (i === start) return false;
    exponent += negativeExponent ? -value : value;
  }
  if (i !== n) return false;

  let value: number;
  if (exact && exponent >= -22 && exponent <= 22) {
    value = exponent < 0 ? mantissa / (POW10[-exponent] as number) : mantissa * (POW10[exponent] as number);
    if (negative) value = -value;
  } else {
    value = Number(text);
  }
  decimalResult.value = value;
  return true;
}

/**
 * Parses a decimal number as a float, or returns `NaN` (and NaN compares false with everything,
 * so an unparseable value matches no number operator). Overflow gives ±Infinity, as in Rust.
 */
export function parseDecimal(text: string): number {
  return typeof text === 'string' && scanDecimal(text) ? decimalResult.value : NaN;
}
