import { toAttributeValue, toSwitchyardContext } from './context.js';

describe('toAttributeValue', () => {
  it.each([
    ['a string, as is', 'KE', 'KE'],
    ['the empty string, as is (the core treats it as missing)', '', ''],
    ['an integer', 42, '42'],
    ['a decimal', 1.5, '1.5'],
    ['a negative number', -3, '-3'],
    ['true', true, 'true'],
    ['false', false, 'false'],
    ['a date, as an RFC 3339 instant in UTC', new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 6)), '2030-01-02T03:04:05.006Z'],
  ])('converts %s', (_what, value, expected) => {
    expect(toAttributeValue(value)).toBe(expected);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an object', { plan: 'vip' }],
    ['an array', ['KE', 'GH']],
    ['an invalid date', new Date(Number.NaN)],
  ])('drops %s', (_what, value) => {
    expect(toAttributeValue(value)).toBeUndefined();
  });
});

describe('toSwitchyardContext', () => {
  it('keeps what converts and drops the rest', () => {
    const context = toSwitchyardContext(
      { targetingKey: 'u-1', country: 'KE', age: 42, beta: true, signedUpAt: new Date(Date.UTC(2024, 5, 1)), address: { city: 'Nairobi' }, tags: ['a'], nothing: null },
      'userId',
    );
    expect({ ...context }).toEqual({ targetingKey: 'u-1', userId: 'u-1', country: 'KE', age: '42', beta: 'true', signedUpAt: '2024-06-01T00:00:00.000Z' });
  });

  it('fills the stickiness attribute from targetingKey only when the attribute is missing', () => {
    expect(toSwitchyardContext({ targetingKey: 't', accountId: 'acct-9' }, 'accountId').accountId).toBe('acct-9');
    expect(toSwitchyardContext({ targetingKey: 't' }, 'accountId').accountId).toBe('t');
    // Missing as the core means it: absent, not convertible, or empty.
    expect(toSwitchyardContext({ targetingKey: 't', accountId: '' }, 'accountId').accountId).toBe('t');
    expect(toSwitchyardContext({ targetingKey: 't', accountId: { id: 1 } }, 'accountId').accountId).toBe('t');
    // A number given as the attribute is the attribute (as a string).
    expect(toSwitchyardContext({ targetingKey: 't', accountId: 77 }, 'accountId').accountId).toBe('77');
  });

  it('fills nothing without a targetingKey, or for an unknown slice', () => {
    expect({ ...toSwitchyardContext({ country: 'KE' }, 'userId') }).toEqual({ country: 'KE' });
    expect({ ...toSwitchyardContext({ targetingKey: '' }, 'userId') }).toEqual({ targetingKey: '' });
    expect({ ...toSwitchyardContext({ targetingKey: 't' }, undefined) }).toEqual({ targetingKey: 't' });
  });

  it('treats a missing context as empty', () => {
    expect({ ...toSwitchyardContext(undefined, 'userId') }).toEqual({});
    expect({ ...toSwitchyardContext(null, 'userId') }).toEqual({});
  });

  it('keeps attribute names that are Object.prototype members as plain entries', () => {
    const context = toSwitchyardContext(JSON.parse('{"__proto__": "x", "constructor": "y", "targetingKey": "t"}') as Record<string, string>, 'toString');
    expect(Object.getPrototypeOf(context)).toBeNull();
    expect(context['__proto__']).toBe('x');
    expect(context.constructor).toBe('y');
    // eslint-disable-next-line @typescript-eslint/unbound-method -- an attribute named toString: data, which is the point
    expect(context.toString).toBe('t');
  });
});
