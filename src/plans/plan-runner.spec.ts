import { SwitchyardException } from '../common/errors/switchyard.exception.js';
import { blockedBy, formatDuration, localTime } from './plan-runner.js';

describe('what a blocked step says', () => {
  it('a freeze window reads as its end in its own zone, across a month boundary', () => {
    // 21:00 UTC on 31 Dec is 00:00 on 1 Jan in Nairobi (UTC+3).
    const refusal = new SwitchyardException('FREEZE_WINDOW', 'frozen', { window: 'salary-run', until: '2026-12-31T21:00:00.000Z', timeZone: 'Africa/Nairobi' });
    expect(blockedBy(refusal)).toBe('freeze window until 1 Jan 00:00 Africa/Nairobi');
    expect(localTime('2026-12-27T21:00:00.000Z', 'Africa/Nairobi')).toBe('28 Dec 00:00');
    expect(localTime('2026-03-29T01:30:00.000Z', 'Europe/Berlin')).toBe('29 Mar 03:30');
  });

  it('anything else is not a hold: the runner lets it fail the look', () => {
    expect(blockedBy(new SwitchyardException('SLICE_NOT_ACTIVE', 'rolled back'))).toBeNull();
    expect(blockedBy(new Error('FREEZE_WINDOW'))).toBeNull();
    expect(localTime('2026-12-27T21:00:00.000Z', 'Not/AZone')).toBe('2026-12-27T21:00:00.000Z');
  });

  it('durations read as a person says them', () => {
    expect([0, 59_999, 31 * 60_000, 90 * 60_000, 26 * 3_600_000].map(formatDuration)).toEqual(['0m', '0m', '31m', '1h 30m', '1d 2h']);
  });
});
