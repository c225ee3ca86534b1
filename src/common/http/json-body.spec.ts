import fc from 'fast-check';
import type { IncomingMessage } from 'node:http';
import { InvalidInputException } from '../errors/switchyard.exception.js';
import { toPublicError } from '../errors/error-mapper.js';
import { findUnstorableText } from '../validation/storable-text.js';
import { isPlainJsonRequest, parseJsonBody } from './json-body.js';
import { mayHoldUnstorableText } from './storable-body.js';

const codeOf = (run: () => unknown): string | null => {
  try {
    run();
    return null;
  } catch (error) {
    return toPublicError(error).code;
  }
};

/** Strings of every kind: any plane, lone surrogates, NUL and other control characters. */
const hostileString = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('\u0000', '\ud800', '\udc00', '\\', 'u', '"', 'a', '\u2028') }));
const hostileJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('parseJsonBody', () => {
  it('refuses exactly what the walk of the parsed value refuses, whether or not the raw text is checked first', () => {
    fc.assert(
      fc.property(fc.oneof(fc.dictionary(hostileString, hostileJson, { maxKeys: 4 }), fc.array(hostileJson, { maxLength: 4 })), (value) => {
        const raw = Buffer.from(JSON.stringify(value));
        const walked = findUnstorableText(JSON.parse(raw.toString('utf8')), '');
        let thrown: unknown = null;
        try {
          parseJsonBody(raw);
        } catch (error) {
          thrown = error;
        }
        if (walked.length === 0) expect(thrown).toBeNull();
        else expect((thrown as InvalidInputException).violations).toEqual(walked);
        // The shortcut is sound: a body it lets through holds nothing the walk would find.
        if (!mayHoldUnstorableText(raw)) expect(walked).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('answers as body-parser does: {} for an empty body, INVALID_INPUT for non-JSON, a bare value or non-UTF-8', () => {
    expect(parseJsonBody(Buffer.alloc(0))).toEqual({});
    expect(parseJsonBody(Buffer.from(' \n'))).toEqual({});
    expect(parseJsonBody(Buffer.from(' {"a":[1]}'))).toEqual({ a: [1] });
    expect(codeOf(() => parseJsonBody(Buffer.from('{"a":')))).toBe('INVALID_INPUT');
    expect(codeOf(() => parseJsonBody(Buffer.from('"a"')))).toBe('INVALID_INPUT');
    expect(codeOf(() => parseJsonBody(Buffer.from('12')))).toBe('INVALID_INPUT');
    const notUtf8 = Buffer.from('{"a":"xx"}');
    notUtf8[6] = 0xff;
    expect(codeOf(() => parseJsonBody(notUtf8))).toBe('INVALID_INPUT');
    // An encoded surrogate is not UTF-8 either (it would decode to U+FFFD).
    expect(codeOf(() => parseJsonBody(Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])))).toBe('INVALID_INPUT');
  });

  it('names the field of an escaped NUL or lone surrogate', () => {
    const violationsOf = (text: string) => {
      try {
        parseJsonBody(Buffer.from(text));
      } catch (error) {
        return (error as InvalidInputException).violations.map((v) => v.field);
      }
      return [];
    };
    expect(violationsOf('{"appName":"a\\u0000"}')).toEqual(['appName']);
    expect(violationsOf('{"s":{"k\\ud800":1}}')).toEqual(['s["k\\ud800"]']);
    expect(violationsOf('{"s":{"k\\\\ud800":1}}')).toEqual([]);
  });
});

describe('isPlainJsonRequest', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

  it('takes application/json in UTF-8, uncompressed, and leaves everything else to Express', () => {
    expect(isPlainJsonRequest(req({ 'content-type': 'application/json' }))).toBe(true);
    expect(isPlainJsonRequest(req({ 'content-type': 'Application/JSON; charset=UTF-8' }))).toBe(true);
    expect(isPlainJsonRequest(req({ 'content-type': 'application/json; charset="utf-8"', 'content-encoding': 'identity' }))).toBe(true);
    expect(isPlainJsonRequest(req({ 'content-type': 'application/json', 'content-encoding': 'gzip' }))).toBe(false);
    expect(isPlainJsonRequest(req({ 'content-type': 'application/json; charset=latin1' }))).toBe(false);
    expect(isPlainJsonRequest(req({ 'content-type': 'text/plain' }))).toBe(false);
    expect(isPlainJsonRequest(req({ 'content-type': 'application/vnd.api+json' }))).toBe(false);
    expect(isPlainJsonRequest(req({}))).toBe(false);
  });
});
