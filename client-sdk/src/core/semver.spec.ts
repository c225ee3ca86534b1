import { compareSemver, compareSemverText, isSemver, parseSemver, type SemVer } from './semver.js';

const parsed = (text: string): SemVer => {
  const v = parseSemver(text);
  if (v === null) throw new Error(`test setup: ${text} should parse`);
  return v;
};

describe('strict SemVer 2.0 parsing', () => {
  it.each([
    '0.0.0',
    '1.2.3',
    '10.20.30',
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-0.3.7',
    '1.0.0-x.7.z.92',
    '1.0.0-x-y-z.--',
    '1.0.0-alpha+001',
    '1.0.0+20130313144700',
    '1.0.0-beta+exp.sha.5114f85',
    '1.0.0+21AF26D3----117B344092BD',
    '1.2.3----RC-SNAPSHOT.12.9.1--.12+788',
    '9007199254740991.0.0',
  ])('accepts %s', (text) => {
    expect(isSemver(text)).toBe(true);
  });

  it.each([
    'v1.2.3',
    '=1.2.3',
    '1.2',
    '1',
    '1.2.3.4',
    '01.2.3',
    '1.02.3',
    '1.2.03',
    '1.2.3-01',
    '1.2.3-alpha.01',
    '1.2.3-',
    '1.2.3+',
    '1.2.3-alpha..1',
    '1.2.3-alpha_1',
    '1.2.3+build..1',
    ' 1.2.3',
    '1.2.3 ',
    '1.2.3-é',
    '',
    'not a semver',
    '9007199254740992.0.0',
  ])('refuses %j', (text) => {
    expect(isSemver(text)).toBe(false);
    expect(parseSemver(text)).toBeNull();
  });

  it('allows leading zeros in build metadata only', () => {
    expect(parseSemver('1.2.3-rc.1+001.0a')).toEqual({ major: 1, minor: 2, patch: 3, prerelease: ['rc', '1'], build: ['001', '0a'] });
  });
});

describe('SemVer precedence', () => {
  // semver.org §11: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta < 1.0.0-beta < 1.0.0-beta.2
  // < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0, and 1.0.0 < 2.0.0 < 2.1.0 < 2.1.1.
  const ordered = [
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '1.0.1',
    '1.1.0',
    '2.0.0-0',
    '2.0.0-9',
    '2.0.0-10',
    '2.0.0-99999999999999999999',
    '2.0.0-A',
    '2.0.0-a',
    '2.0.0',
    '2.1.0',
    '2.1.1',
    '10.0.0',
  ];

  it('orders the semver.org examples (and numeric vs alphanumeric, huge numbers, ASCII case)', () => {
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        const expected = Math.sign(i - j);
        const a = ordered[i]!;
        const b = ordered[j]!;
        expect([a, b, compareSemver(parsed(a), parsed(b))]).toEqual([a, b, expected]);
        expect([a, b, compareSemverText(a, parsed(b))]).toEqual([a, b, expected]);
      }
    }
  });

  it('ignores build metadata', () => {
    expect(compareSemverText('1.2.2+metadata', parsed('1.2.2'))).toBe(0);
    expect(compareSemverText('1.2.2-alpha.1+metadata.2', parsed('1.2.2-alpha.1+metadata.1'))).toBe(0);
    expect(compareSemver(parsed('1.2.2+a'), parsed('1.2.2+b'))).toBe(0);
  });

  it('gives NaN for an invalid text, so every comparison with it is false', () => {
    const c = compareSemverText('v1.2.3', parsed('1.2.3'));
    expect(Number.isNaN(c)).toBe(true);
    expect(c === 0 || c < 0 || c > 0 || c <= 0 || c >= 0).toBe(false);
  });
});
