import type { SliceRow } from './slices-api.js';

export function percent(value: number): string {
  return `${Number.isInteger(value) ? value : value.toFixed(2)} %`;
}

export function share(value: number | null): string {
  return value === null ? '—' : `${(value * 100).toFixed(1)} %`;
}

/** "include 2 · exclude 1 · 3 rules", or "everyone" (the rollout alone decides). */
export function targetingSummary(t: SliceRow['targeting']): string {
  const parts = [
    t.include.length > 0 ? `include ${t.include.join(', ')}` : '',
    t.exclude.length > 0 ? `exclude ${t.exclude.join(', ')}` : '',
    t.rules.length > 0 ? `${t.rules.length} rule${t.rules.length === 1 ? '' : 's'}` : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? 'everyone' : parts.join(' · ');
}

// One formatter for every date shown: toLocaleString with options builds a new one per call,
// which is most of the time a list of 1,000 slices takes to render.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** An instant as the wall clock of a time zone reads it, the zone named: "28 Dec 2026, 00:00 Africa/Nairobi". */
export function inZone(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  try {
    const text = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(date);
    return `${text} ${timeZone}`;
  } catch {
    // A zone this browser does not know: the instant, in UTC, says the same.
    return `${date.toISOString()} (${timeZone})`;
  }
}
