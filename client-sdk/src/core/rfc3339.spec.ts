import { compareEpochMillis, compareRfc3339Text, isRfc3339, parseRfc3339, type Instant } from './rfc3339.js';

const at = (text: string): Instant => {
  const v = parseRfc3339(text);
  if (v === null) throw new Error(`test setup: ${text} should parse`);
  return v;
};

describe('RFC 3339 parsing', () => {
  it.each([
    ['2024-03-01T09:30:00Z', Date.UTC(2024, 2, 1, 9, 30) / 1000, 0],
    ['2024-03-01t09:30:00z', Date.UTC(2024, 2, 1, 9, 30) / 1000, 0],
    ['2024-03-01 09:30:00Z', Date.UTC(2024, 2, 1, 9, 30) / 1000, 0],
    ['2024-03-01T12:30:00+03:00', Date.UTC(2024, 2, 1, 9, 30) / 1000, 0],
    ['2024-03-01T04:00:00-05:30', Date.UTC(2024, 2, 1, 9, 30) / 1000, 0],
    ['2024-03-01T09:30:00-00:00', Date.UTC(2024, 2, 1, 9, 30) / 1000, 0],
    ['2024-03-01T09:30:00.5Z', Date.UTC(2024, 2, 1, 9, 30) / 1000, 500_000_000],
    ['2024-03-01T09:30:00.123456789Z', Date.UTC(2024, 2, 1, 9, 30) / 1000, 123_456_789],
    ['2024-03-01T09:30:00.1234567891234Z', Date.UTC(2024, 2, 1, 9, 30) / 1000, 123_456_789], // truncated
    ['1970-01-01T00:00:00Z', 0, 0],
    ['1969-12-31T23:59:59.999Z', -1, 999_000_000],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29) / 1000, 0],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29) / 1000, 0],
    ['0000-01-01T00:00:00Z', -62167219200, 0],
    ['9999-12-31T23:59:59Z', 253402300799, 0],
    ['2016-12-31T23:59:60Z', Date.UTC(2016, 11, 31, 23, 59, 59) / 1000, 1_000_000_000], // leap second
  ])('reads %s', (text, seconds, nanos) => {
    expect(parseRfc3339(text)).toEqual({ seconds, nanos });
  });

  it('agrees with Date.parse on 2,000 random millisecond instants across 1600..2400', () => {
    let seed = 1;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let n = 0; n < 2_000; n++) {
      const ms = Math.floor(Date.UTC(1600, 0, 1) + random() * (Date.UTC(2400, 0, 1) - Date.UTC(1600, 0, 1)));
      const text = new Date(ms).toISOString();
      const instant = at(text);
      expect(instant.seconds * 1000 + instant.nanos / 1e6).toBe(ms);
    }
  });

  it.each([
    '2024-03-01',
    '2024-03-01T09:30Z',
    '2024-03-01T09:30:00',
    '2024-03-01T09:30:00.Z',
    '2024-03-01T09:30:00+0300',
    '2024-03-01T09:30:00+03',
    '2024-03-01T09:30:00+24:00',
    '2024-03-01T09:30:00 Z',
    '2024-3-01T09:30:00Z',
    '2023-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-00-01T00:00:00Z',
    '2024-03-01T24:00:00Z',
    '2024-03-01T09:60:00Z',
    '2024-03-01T09:30:61Z',
    '2024-03-01T09:30:00Zjunk',
    ' 2024-03-01T09:30:00Z',
    'March 1, 2024',
    '1709285400000',
    '',
  ])('refuses %j', (text) => {
    expect(isRfc3339(text)).toBe(false);
  });
});

describe('instant comparison', () => {
  it('is exact to the nanosecond and strict', () => {
    const t = at('2024-03-01T09:30:00.0000001Z');
    expect(compareRfc3339Text('2024-03-01T09:30:00.0000002Z', t)).toBe(1);
    expect(compareRfc3339Text('2024-03-01T09:30:00.0000001Z', t)).toBe(0);
    expect(compareRfc3339Text('2024-03-01T12:30:00.0000001+03:00', t)).toBe(0);
    expect(compareRfc3339Text('2024-03-01T09:30:00Z', t)).toBe(-1);
  });

  it('sorts a leap second between :59 and the next minute', () => {
    const leap = at('2016-12-31T23:59:60.5Z');
    expect(compareRfc3339Text('2016-12-31T23:59:59.999999999Z', leap)).toBe(-1);
    expect(compareRfc3339Text('2017-01-01T00:00:00Z', leap)).toBe(1);
  });

  it('compares epoch milliseconds (the decision time)', () => {
    const t = at('2024-03-01T09:30:00.250Z');
    const ms = Date.UTC(2024, 2, 1, 9, 30, 0, 250);
    expect(compareEpochMillis(ms, t)).toBe(0);
    expect(compareEpochMillis(ms + 1, t)).toBe(1);
    expect(compareEpochMillis(ms - 1, t)).toBe(-1);
    expect(Number.isNaN(compareEpochMillis(NaN, t))).toBe(true);
    expect(Number.isNaN(compareRfc3339Text('yesterday', t))).toBe(true);
  });
});
