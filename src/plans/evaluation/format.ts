/**
 * Figures for people: "1,212 of 5,000 NEW calls", "23 min of 6 h", "2.10 %". Pure and
 * locale-independent (the same text in every runtime, and in history rows).
 */

/** An integer with thousands separators: 1212 -> "1,212". Non-finite -> "?". */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return '?';
  const sign = value < 0 ? '-' : '';
  const digits = String(Math.round(Math.abs(value)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A fraction as a percentage with enough digits to tell small rates apart: 0.021 -> "2.10 %", 0.00012 -> "0.012 %". */
export function formatRate(rate: number | null): string {
  if (rate === null || !Number.isFinite(rate)) return '?';
  const percent = rate * 100;
  const digits = percent === 0 ? 0 : percent >= 10 ? 1 : percent >= 0.1 ? 2 : 3;
  return `${percent.toFixed(digits)} %`;
}

/** Milliseconds for a latency: "42.1 ms", "1,250 ms", "∞" for an unbounded bound. */
export function formatMs(ms: number | null): string {
  if (ms === null || Number.isNaN(ms)) return '?';
  if (ms === Infinity) return '∞';
  return ms >= 1000 ? `${formatCount(ms)} ms` : `${ms.toPrecision(3)} ms`;
}

/** A span: "45 s", "23 min", "6 h", "5 h 20 min", "2 d 4 h". Rounded down, so the wait is never shown as over early. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

/** A ratio: "1.23x". */
export function formatRatio(ratio: number): string {
  if (Number.isNaN(ratio)) return '?';
  if (ratio === Infinity) return '∞';
  return `${ratio.toFixed(2)}x`;
}

/** Numbers kept in figures (history rows): finite ones rounded to 6 significant digits, the others as null. */
export function figure(value: number): number | null {
  return Number.isFinite(value) ? Number(value.toPrecision(6)) : null;
}
