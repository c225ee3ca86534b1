import { parseDecimal } from './decimal.js';

describe('parseDecimal', () => {
  it.each([
    ['12', 12],
    ['12.0', 12],
    ['-4.5', -4.5],
    ['+3', 3],
    ['.5', 0.5],
    ['5.', 5],
    ['007', 7],
    ['0.001', 0.001],
    ['1e3', 1000],
    ['1.5E-3', 0.0015],
    ['0.1', 0.1],
    ['0.29', 0.29],
    ['1000.50', 1000.5],
    ['123456789012345', 123456789012345],
    // eslint-disable-next-line no-loss-of-precision -- the literal is read as Number reads it, which is the point
    ['1234567890123456789', 1234567890123456789], // beyond 15 digits: Number's reading
    ['0.30000000000000004', 0.30000000000000004],
    ['1e400', Infinity],
    ['-1e400', -Infinity],
    ['1e-400', 0],
  ])('reads %s as %d', (text, value) => {
    expect(parseDecimal(text)).toBe(value);
  });

  it('reads -0 as -0, equal to 0', () => {
    expect(Object.is(parseDecimal('-0'), -0)).toBe(true);
    expect(parseDecimal('-0') === 0).toBe(true);
  });

  it.each(['', ' ', ' 12', '12 ', '+', '-', '.', 'e3', '1e', '1e+', '0x10', '0b1', 'Infinity', 'inf', 'NaN', '1,5', '1_000', '--1', '1..2', '1.2.3', '12abc', '١٢'])(
    'reads %j as NaN',
    (text) => {
      expect(parseDecimal(text)).toBeNaN();
    },
  );

  it('agrees with Number() on 200,000 random strings of the grammar (fast path and fallback)', () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const digits = (max: number) => Array.from({ length: random(max) }, () => random(10)).join('');
    let mismatches = 0;
    for (let k = 0; k < 200_000; k++) {
      let text = ['', '-', '+'][random(3)]!;
      const int = digits(18);
      const frac = random(2) ? '.' + digits(18) : '';
      text += int === '' && (frac === '' || frac === '.') ? '0' + frac : int + frac;
      if (random(3) === 0) text += (random(2) ? 'e' : 'E') + ['', '-', '+'][random(3)] + (1 + random(40));
      if (!Object.is(parseDecimal(text), Number(text))) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
