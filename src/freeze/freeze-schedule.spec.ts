import fc from 'fast-check';
import { activeAt, type FreezeWindowSpec, nextStart, parseDuration, scheduleProblems } from './freeze-schedule.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const at = (iso: string) => new Date(iso);
const iso = (d: Date | null) => d?.toISOString() ?? null;

const salaryDays = (timeZone: string): FreezeWindowSpec => ({ timeZone, schedule: { kind: 'RECURRING', daysOfMonth: [25], at: '00:00', duration: '3d' } });

describe('freeze schedule: examples', () => {
  it('days 25 to 27 in Africa/Nairobi (UTC+3): from the 24th 21:00Z to the 27th 21:00Z, across a month and a year end', () => {
    const w = salaryDays('Africa/Nairobi');
    expect(activeAt(w, at('2026-12-24T20:59:59.999Z'))).toEqual({ active: false, until: null });
    expect(activeAt(w, at('2026-12-24T21:00:00.000Z'))).toEqual({ active: true, until: at('2026-12-27T21:00:00.000Z') });
    expect(activeAt(w, at('2026-12-27T20:59:00.000Z')).active).toBe(true);
    expect(activeAt(w, at('2026-12-27T21:00:00.000Z')).active).toBe(false);
    expect(iso(nextStart(w, at('2026-12-27T21:00:00.000Z')))).toBe('2027-01-24T21:00:00.000Z');
    // On during a freeze, the next one is the one after it.
    expect(iso(nextStart(w, at('2026-12-25T12:00:00.000Z')))).toBe('2027-01-24T21:00:00.000Z');
  });

  it('days 25, 26 and 27 for a day each are one freeze (touching occurrences merge)', () => {
    const w: FreezeWindowSpec = { timeZone: 'Africa/Nairobi', schedule: { kind: 'RECURRING', daysOfMonth: [27, 25, 26], at: '00:00', duration: '1d' } };
    expect(activeAt(w, at('2027-02-24T21:00:00.000Z'))).toEqual({ active: true, until: at('2027-02-27T21:00:00.000Z') });
  });

  it('3d counts local days across a DST change (Europe/London, America/New_York)', () => {
    // London goes to BST on 29 March 2026: 27 00:00 GMT to 30 00:00 BST is 71 hours.
    const london: FreezeWindowSpec = { timeZone: 'Europe/London', schedule: { kind: 'RECURRING', daysOfMonth: [27], at: '00:00', duration: '3d' } };
    expect(activeAt(london, at('2026-03-27T00:00:00.000Z'))).toEqual({ active: true, until: at('2026-03-29T23:00:00.000Z') });
    // New York goes back to EST on 1 November 2026: 31 Oct 00:00 EDT + 3d is 3 Nov 00:00 EST (73 hours).
    const ny: FreezeWindowSpec = { timeZone: 'America/New_York', schedule: { kind: 'RECURRING', daysOfMonth: [31], at: '00:00', duration: '3d' } };
    expect(activeAt(ny, at('2026-10-31T04:00:00.000Z'))).toEqual({ active: true, until: at('2026-11-03T05:00:00.000Z') });
  });

  it('a skipped local time starts as far after the jump as it was after the gap start; a repeated one at its first occurrence', () => {
    const skipped: FreezeWindowSpec = { timeZone: 'America/New_York', schedule: { kind: 'RECURRING', daysOfMonth: [8], at: '02:30', duration: '1h' } };
    // 8 March 2026 02:30 does not exist in New York: 03:30 EDT (07:30Z).
    expect(iso(nextStart(skipped, at('2026-03-01T00:00:00.000Z')))).toBe('2026-03-08T07:30:00.000Z');
    const repeated: FreezeWindowSpec = { timeZone: 'America/New_York', schedule: { kind: 'RECURRING', daysOfMonth: [1], at: '01:30', duration: '1h' } };
    // 1 November 2026 01:30 happens twice: the first (EDT, 05:30Z).
    expect(iso(nextStart(repeated, at('2026-10-20T00:00:00.000Z')))).toBe('2026-11-01T05:30:00.000Z');
  });

  it('days 29 to 31 start nothing in a February that lacks them; 29 February in a leap year does', () => {
    const w: FreezeWindowSpec = { timeZone: 'Pacific/Auckland', schedule: { kind: 'RECURRING', daysOfMonth: [29, 30, 31], at: '00:00', duration: '1d' } };
    // Auckland is UTC+13 in February (NZDT): 31 January local ends 31 Jan 11:00Z; next is 29 March.
    expect(iso(nextStart(w, at('2027-01-31T00:00:00.000Z')))).toBe('2027-03-28T11:00:00.000Z');
    expect(iso(nextStart(w, at('2028-01-31T00:00:00.000Z')))).toBe('2028-02-28T11:00:00.000Z');
  });

  it('weekdays and days of the month must both hold', () => {
    // Friday the 13th, all day, UTC.
    const w: FreezeWindowSpec = { timeZone: 'UTC', schedule: { kind: 'RECURRING', daysOfMonth: [13], weekdays: [5], at: '00:00', duration: '1d' } };
    expect(iso(nextStart(w, at('2026-01-01T00:00:00.000Z')))).toBe('2026-02-13T00:00:00.000Z');
    expect(iso(nextStart(w, at('2026-02-13T00:00:00.000Z')))).toBe('2026-03-13T00:00:00.000Z');
    expect(iso(nextStart(w, at('2026-03-13T00:00:00.000Z')))).toBe('2026-11-13T00:00:00.000Z');
  });

  it('one-off: from inclusive, until exclusive', () => {
    const w: FreezeWindowSpec = { timeZone: 'Africa/Nairobi', schedule: { kind: 'ONE_OFF', from: '2026-12-20T00:00:00.000Z', until: '2027-01-02T00:00:00.000Z' } };
    expect(activeAt(w, at('2026-12-20T00:00:00.000Z'))).toEqual({ active: true, until: at('2027-01-02T00:00:00.000Z') });
    expect(activeAt(w, at('2027-01-02T00:00:00.000Z')).active).toBe(false);
    expect(iso(nextStart(w, at('2026-12-19T00:00:00.000Z')))).toBe('2026-12-20T00:00:00.000Z');
    expect(nextStart(w, at('2026-12-20T00:00:00.000Z'))).toBeNull();
  });

  it('refuses unknown zones, empty and inverted ranges, absurd durations, out-of-range days, bad times', () => {
    const fields = (spec: FreezeWindowSpec) => scheduleProblems(spec).map((p) => p.field);
    expect(fields({ timeZone: 'Mars/Olympus', schedule: { kind: 'ONE_OFF', from: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' } })).toEqual(['timeZone', 'until']);
    expect(fields({ timeZone: 'UTC+3', schedule: { kind: 'ONE_OFF', from: '2026-01-01T00:00:00Z', until: '2026-01-01T00:00:00Z' } })).toEqual(['timeZone', 'until']);
    expect(fields({ timeZone: 'UTC', schedule: { kind: 'ONE_OFF', from: '2026-01-01T00:00:00Z', until: '2028-01-01T00:00:00Z' } })).toEqual(['until']);
    expect(fields({ timeZone: 'UTC', schedule: { kind: 'RECURRING', daysOfMonth: [], weekdays: [0, 8], at: '24:00', duration: '0d' } })).toEqual([
      'recurrence.daysOfMonth',
      'recurrence.weekdays[0]',
      'recurrence.weekdays[1]',
      'recurrence.at',
      'recurrence.duration',
    ]);
    expect(fields({ timeZone: 'UTC', schedule: { kind: 'RECURRING', daysOfMonth: [0, 32, 1.5], at: '00:00', duration: '32d' } })).toEqual([
      'recurrence.daysOfMonth[0]',
      'recurrence.daysOfMonth[1]',
      'recurrence.daysOfMonth[2]',
      'recurrence.duration',
    ]);
    expect(parseDuration('1d12h')).toEqual({ days: 1, minutes: 720 });
    for (const bad of ['', 'd', '3', '-1d', '1.5d', '1h1d', '0m', ' 3d']) expect(parseDuration(bad)).toBeNull();
  });
});

/**
 * The reference: minute by minute, the zone read with Intl (not Luxon), each start found by
 * looking for the minute whose local wall clock shows it, or the jump over it.
 */
class Reference {
  private readonly walls: number[] = [];
  private readonly firstSeen = new Map<number, number>();

  constructor(
    private readonly spec: FreezeWindowSpec & { schedule: { kind: 'RECURRING' } },
    private readonly from: number,
    to: number,
  ) {
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone: spec.timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    for (let m = from; m < to; m += MINUTE) {
      const p = Object.fromEntries(format.formatToParts(new Date(m)).map((x) => [x.type, x.value]));
      const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute));
      this.walls.push(wall);
      if (!this.firstSeen.has(wall)) this.firstSeen.set(wall, m);
    }
  }

  /** The instant of a local wall time (as if UTC), by its first minute, or the jump over it. */
  private resolve(wall: number): number | null {
    const seen = this.firstSeen.get(wall);
    if (seen !== undefined) return seen;
    for (let i = 1; i < this.walls.length; i++) {
      if (this.walls[i - 1]! < wall && wall < this.walls[i]!) return this.from + (i - 1) * MINUTE + (wall - this.walls[i - 1]!);
    }
    return null;
  }

  /** Every occurrence [start, end) whose local day lies in the range. */
  occurrences(): [number, number][] {
    const s = this.spec.schedule;
    const [hh, mm] = s.at.split(':').map(Number) as [number, number];
    const d = parseDuration(s.duration)!;
    const out: [number, number][] = [];
    const firstDay = Math.floor(this.walls[0]! / DAY);
    const lastDay = Math.floor(this.walls[this.walls.length - 1]! / DAY);
    for (let day = firstDay; day <= lastDay; day++) {
      const date = new Date(day * DAY);
      if (s.daysOfMonth != null && !s.daysOfMonth.includes(date.getUTCDate())) continue;
      if (s.weekdays != null && !s.weekdays.includes(date.getUTCDay() === 0 ? 7 : date.getUTCDay())) continue;
      const start = this.resolve(day * DAY + (hh * 60 + mm) * MINUTE);
      const endBase = this.resolve((day + d.days) * DAY + (hh * 60 + mm) * MINUTE);
      if (start === null || endBase === null) continue;
      out.push([start, endBase + d.minutes * MINUTE]);
    }
    return out;
  }
}

const ZONES = ['Europe/London', 'America/New_York', 'Africa/Nairobi', 'Pacific/Auckland', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Santiago', 'UTC'];
// Near DST changes, month ends and February.
const ANCHORS = ['2026-03-20', '2026-10-20', '2026-09-20', '2026-04-01', '2028-02-10', '2027-01-20', '2026-12-20'].map((d) => Date.parse(`${d}T00:00:00Z`));

describe('freeze schedule: against a minute-by-minute reference', () => {
  it('activeAt, until and nextStart agree at every boundary and at random minutes', () => {
    const recurrence = fc.record({
      daysOfMonth: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 31 }), { minLength: 1, maxLength: 6 }), { nil: undefined }),
      weekdays: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }), { nil: undefined }),
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.constantFrom(0, 15, 30, 59),
      days: fc.integer({ min: 0, max: 3 }),
      minutes: fc.integer({ min: 0, max: 36 * 60 }),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        recurrence,
        fc.constantFrom(...ANCHORS),
        fc.integer({ min: -10, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 20 * 1440 }), { maxLength: 20 }),
        (zone, r, anchor, shiftDays, picks) => {
          const minutes = r.days === 0 && r.minutes === 0 ? 1 : r.minutes;
          const duration = `${r.days > 0 ? `${r.days}d` : ''}${Math.floor(minutes / 60) > 0 ? `${Math.floor(minutes / 60)}h` : ''}${minutes % 60 > 0 ? `${minutes % 60}m` : ''}`;
          const spec = {
            timeZone: zone,
            schedule: {
              kind: 'RECURRING' as const,
              daysOfMonth: r.daysOfMonth,
              weekdays: r.weekdays,
              at: `${String(r.hour).padStart(2, '0')}:${String(r.minute).padStart(2, '0')}`,
              duration,
            },
          };
          expect(scheduleProblems(spec)).toEqual([]);
          const a = anchor + shiftDays * DAY;
          // Occurrences that may cover [a, a + 20d] start from 6 days before it and end up to 5 days after it: walls a day more each side.
          const ref = new Reference(spec, a - 7 * DAY, a + 27 * DAY);
          const occ = ref.occurrences();
          const horizon = a + 20 * DAY;
          // Minute by minute from a to a day past the horizon: on, the end of the freeze, the next start.
          const n = 21 * 1440;
          const on: boolean[] = new Array(n).fill(false);
          for (const [s, e] of occ) for (let t = Math.max(s, a); t < e && t < a + n * MINUTE; t += MINUTE) on[(t - a) / MINUTE] = true;
          const until: (number | null)[] = new Array(n).fill(null);
          const next: (number | null)[] = new Array(n).fill(null);
          for (let i = n - 2; i >= 0; i--) {
            until[i] = on[i] ? (on[i + 1] ? until[i + 1]! : i + 1) : null;
            next[i] = on[i + 1] && !on[i] ? i + 1 : next[i + 1]!;
          }
          const edges = occ.flatMap(([s, e]) => [s - MINUTE, s, e - MINUTE, e]).filter((t) => t >= a && t < horizon);
          for (const t of [...edges, ...picks.map((p) => a + p * MINUTE)]) {
            const i = (t - a) / MINUTE;
            const label = new Date(t).toISOString();
            const got = activeAt(spec, new Date(t));
            expect({ label, active: got.active }).toEqual({ label, active: on[i] });
            if (got.active) {
              const end = until[i];
              if (end !== null && end !== undefined && a + end * MINUTE < horizon)
                expect({ label, until: iso(got.until) }).toEqual({ label, until: new Date(a + end * MINUTE).toISOString() });
              else expect(got.until!.getTime()).toBeGreaterThanOrEqual(horizon);
            }
            const want = next[i];
            const gotNext = nextStart(spec, new Date(t));
            if (want !== null && want !== undefined && a + want * MINUTE < horizon)
              expect({ label, next: iso(gotNext) }).toEqual({ label, next: new Date(a + want * MINUTE).toISOString() });
            else if (gotNext !== null) expect(gotNext.getTime()).toBeGreaterThanOrEqual(horizon);
          }
        },
      ),
      { numRuns: 15 },
    );
  });
});
