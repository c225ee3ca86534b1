import type { FreezeSchedule, FreezeWindowSpec } from './freeze-schedule.js';
import type { FreezeWindowEntity } from './freeze-window.entity.js';

/** A freeze window's complete configuration: history's before / after, and what replay rebuilds. Plain JSON. */
export interface FreezeWindowRecord {
  readonly key: string;
  readonly description: string;
  readonly timeZone: string;
  readonly schedule: FreezeSchedule;
  /** Only slices with this tag; null: every slice. */
  readonly tag: string | null;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function toFreezeWindowRecord(e: FreezeWindowEntity): FreezeWindowRecord {
  return {
    key: e.key,
    description: e.description,
    timeZone: e.timeZone,
    schedule: normalizeSchedule(e.schedule),
    tag: e.tag,
    version: e.version,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

/** Every member spelled out in one order, instants as ISO with milliseconds: stored, hashed and served alike. */
export function normalizeSchedule(s: FreezeSchedule): FreezeSchedule {
  if (s.kind === 'ONE_OFF') return { kind: 'ONE_OFF', from: new Date(s.from).toISOString(), until: new Date(s.until).toISOString() };
  return {
    kind: 'RECURRING',
    daysOfMonth: s.daysOfMonth == null ? null : [...new Set(s.daysOfMonth)].sort((a, b) => a - b),
    weekdays: s.weekdays == null ? null : [...new Set(s.weekdays)].sort((a, b) => a - b),
    at: s.at,
    duration: s.duration,
  };
}

export function specOf(r: FreezeWindowRecord): FreezeWindowSpec {
  return { timeZone: r.timeZone, schedule: r.schedule };
}

/** Whether the window applies to a slice with these tags. */
export function covers(r: FreezeWindowRecord, tags: readonly string[]): boolean {
  return r.tag === null || tags.includes(r.tag);
}
