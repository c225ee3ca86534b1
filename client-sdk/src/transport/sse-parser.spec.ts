import { SseLimitError, SseParser, type ServerSentEvent } from './sse-parser.js';

function parse(chunks: readonly string[], maxEventChars?: number): { events: ServerSentEvent[]; retries: number[] } {
  const events: ServerSentEvent[] = [];
  const retries: number[] = [];
  const parser = new SseParser(
    (e) => events.push(e),
    (ms) => retries.push(ms),
    maxEventChars,
  );
  for (const chunk of chunks) parser.push(chunk);
  return { events, retries };
}

/** Every way of cutting `text` in two, plus one character per chunk. */
function splits(text: string): string[][] {
  const cuts = [...Array(text.length + 1).keys()].map((i) => [text.slice(0, i), text.slice(i)]);
  return [...cuts, [...text]];
}

describe('SseParser', () => {
  const stream = 'retry: 1000\n\nevent: snapshot\nid: 7\ndata: {"revision":7}\n\n: keep-alive\n\nevent: heartbeat\ndata: {"revision":7}\n\n';
  const expected = [
    { type: 'snapshot', data: '{"revision":7}', id: '7' },
    { type: 'heartbeat', data: '{"revision":7}', id: '7' },
  ];

  it('parses events, ignores comments, reports retry', () => {
    expect(parse([stream])).toEqual({ events: expected, retries: [1000] });
  });

  it('gives the same events however the stream is cut into chunks', () => {
    for (const chunks of splits(stream)) expect(parse(chunks).events).toEqual(expected);
  });

  it.each([
    ['CRLF', '\r\n'],
    ['CR', '\r'],
    ['LF', '\n'],
  ])('accepts %s line endings, also split between chunks', (_name, eol) => {
    const text = stream.replace(/\n/g, eol);
    for (const chunks of splits(text)) expect(parse(chunks).events).toEqual(expected);
  });

  it('accepts mixed line endings', () => {
    expect(parse(['event: a\r\ndata: 1\rdata: 2\n\r\n']).events).toEqual([{ type: 'a', data: '1\n2', id: '' }]);
  });

  it('joins multi-line data with LF and keeps empty data lines', () => {
    expect(parse(['data: first\ndata:\ndata:  indented\ndata\n\n']).events).toEqual([{ type: 'message', data: 'first\n\n indented\n', id: '' }]);
  });

  it('removes exactly one space after the colon, and takes a line without colon as a field with an empty value', () => {
    expect(parse(['event:snapshot\ndata:x\n\n']).events).toEqual([{ type: 'snapshot', data: 'x', id: '' }]);
    expect(parse(['data\n\n']).events).toEqual([{ type: 'message', data: '', id: '' }]);
  });

  it('dispatches nothing for a block without data, and resets the event type after it', () => {
    expect(parse(['event: snapshot\nid: 3\n\ndata: x\n\n']).events).toEqual([{ type: 'message', data: 'x', id: '3' }]);
  });

  it('keeps the last id across events, ignores ids containing NUL, and an empty id resets it', () => {
    const { events } = parse(['id: 1\ndata: a\n\ndata: b\n\nid: 2\u00003\ndata: c\n\nid\ndata: d\n\n']);
    expect(events.map((e) => e.id)).toEqual(['1', '1', '1', '']);
  });

  it('ignores unknown fields, and retry values that are not all digits', () => {
    expect(parse(['foo: bar\nretry: 10x\nretry: -5\ndata: x\n\n'])).toEqual({ events: [{ type: 'message', data: 'x', id: '' }], retries: [] });
  });

  it('does not dispatch an event whose blank line has not arrived', () => {
    expect(parse(['data: partial\n']).events).toEqual([]);
  });

  it('strips a leading byte-order mark', () => {
    expect(parse(['\ufeffdata: x\n\n']).events).toEqual([{ type: 'message', data: 'x', id: '' }]);
  });

  it('parses a large single-line event delivered in many small chunks', () => {
    const data = JSON.stringify({ ids: Array.from({ length: 20_000 }, (_, i) => `user-${i}`) });
    const text = `event: snapshot\ndata: ${data}\n\n`;
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 1000) chunks.push(text.slice(i, i + 1000));
    expect(parse(chunks).events).toEqual([{ type: 'snapshot', data, id: '' }]);
  });

  it('refuses a line or an event longer than the limit', () => {
    expect(() => parse(['data: ', 'x'.repeat(50), 'x'.repeat(60)], 100)).toThrow(SseLimitError);
    expect(() => parse(['data: ' + 'x'.repeat(60) + '\ndata: ' + 'x'.repeat(60) + '\n'], 100)).toThrow(SseLimitError);
    expect(parse(['data: ' + 'x'.repeat(80) + '\n\n'], 100).events).toHaveLength(1);
  });
});
