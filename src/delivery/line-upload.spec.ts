import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { LINES_PER_TURN, LineUpload, type LineUploadOptions } from './line-upload.js';

/**
 * LineUpload over real sockets: a node:http server answering each line, and a client writing its
 * body in pieces as they come (chunked), the answers read back as the client sees them.
 */
describe('LineUpload', () => {
  let server: Server;
  let port: number;
  let options: (req: IncomingMessage, res: ServerResponse) => LineUploadOptions;

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.flushHeaders();
      new LineUpload(req, res, options(req, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const echo = (maxLineBytes: number) => (): LineUploadOptions => ({
    maxLineBytes,
    answer: (line) => JSON.stringify(line.toString('hex')),
    tooLong: () => '"TOO LONG"',
  });

  /** Sends `chunks` as the body, a turn of the event loop apart; resolves with the answer lines and whether the answer ended before the body did. */
  async function upload(chunks: readonly Buffer[], opts: { end?: boolean } = {}): Promise<{ answers: string[]; complete: boolean }> {
    return new Promise((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.setEncoding('latin1');
        res.on('data', (piece: string) => (text += piece));
        res.on('end', () => {
          req.destroy();
          const answers = text === '' ? [] : text.replace(/\n$/, '').split('\n');
          resolve({ answers, complete: res.complete });
        });
        res.on('error', reject);
      });
      req.on('error', () => {});
      req.flushHeaders();
      void (async () => {
        for (const chunk of chunks) {
          if (req.destroyed) return;
          req.write(chunk);
          await new Promise((r) => setImmediate(r));
        }
        if (opts.end !== false && !req.destroyed) req.end();
      })();
    });
  }

  /** `bytes` cut at `cuts` (fractions of its length). */
  const cut = (bytes: Buffer, cuts: readonly number[]): Buffer[] => {
    const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].filter((i) => i > 0 && i < bytes.length).sort((a, b) => a - b);
    const pieces: Buffer[] = [];
    let from = 0;
    for (const i of at) {
      pieces.push(bytes.subarray(from, i));
      from = i;
    }
    pieces.push(bytes.subarray(from));
    return pieces;
  };

  it('answers every non-blank line once, in order, however the body is cut into chunks', async () => {
    options = echo(64);
    const line = fc.oneof(fc.string({ unit: fc.constantFrom('a', 'b', '{', '"', ' ', '\t', 'é', '\r'), maxLength: 20 }), fc.constant(''), fc.constant('   '));
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 12 }),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
        async (lines, crlf, trailing, cuts) => {
          const body = Buffer.from(lines.join(crlf ? '\r\n' : '\n') + (trailing ? '\n' : ''), 'latin1');
          const { answers, complete } = await upload(cut(body, cuts));
          // What the server reads of each line (a CRLF's `\r` with it, not after the last), less one `\r` at its end.
          const expected = lines
            .map((l, i) => (crlf && i < lines.length - 1 ? `${l}\r` : l).replace(/\r$/, ''))
            .filter((l) => !/^[ \t]*$/.test(l))
            .map((l) => JSON.stringify(Buffer.from(l, 'latin1').toString('hex')));
          expect(answers).toEqual(expected);
          expect(complete).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('answers a line over the limit after the lines before it, then ends: nothing after it is read', async () => {
    options = echo(10);
    const { answers } = await upload([Buffer.from('one\ntwo\n'), Buffer.from('x'.repeat(8)), Buffer.from('y'.repeat(8)), Buffer.from('\nthree\n')], { end: false });
    const hex = (text: string) => JSON.stringify(Buffer.from(text).toString('hex'));
    expect(answers).toEqual([hex('one'), hex('two'), '"TOO LONG"']);
    // At the limit exactly, with or without a `\r`, is not over it.
    const atLimit = await upload([Buffer.from(`${'z'.repeat(10)}\r\n${'w'.repeat(10)}\n`)]);
    expect(atLimit.answers).toEqual([hex('z'.repeat(10)), hex('w'.repeat(10))]);
  });

  it('ends when the response is ended, leaving the lines read after it unanswered', async () => {
    let seen = 0;
    options = (_req, res) => ({
      maxLineBytes: 100,
      answer: (line) => {
        if (++seen === 2) setImmediate(() => res.end());
        return JSON.stringify(line.toString());
      },
      tooLong: () => '"TOO LONG"',
    });
    const chunks = [Buffer.from('a\n'), Buffer.from('b\n'), ...Array.from({ length: 20 }, (_, i) => Buffer.from(`later-${i}\n`))];
    const { answers } = await upload(chunks, { end: false });
    expect(answers.slice(0, 2)).toEqual(['"a"', '"b"']);
    expect(answers.length).toBeLessThan(chunks.length);
  });

  it('handles at most LINES_PER_TURN lines at once, and holds no more answers than the socket takes while the client does not read', async () => {
    let inTurn = 0;
    let mostInTurn = 0;
    let mostBuffered = 0;
    const ANSWER = 'y'.repeat(1000);
    options = (_req, res) => ({
      maxLineBytes: 100,
      answer: () => {
        if (inTurn++ === 0) queueMicrotask(() => (inTurn = 0));
        mostInTurn = Math.max(mostInTurn, inTurn);
        mostBuffered = Math.max(mostBuffered, res.writableLength);
        return ANSWER;
      },
      tooLong: () => '"TOO LONG"',
    });
    const LINES = 20_000;
    const answered = await new Promise<number>((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        // Not read for a while: 20 MB of answers would pile up in the server without backpressure.
        res.pause();
        setTimeout(() => {
          let lines = 0;
          res.on('data', (piece: Buffer) => {
            for (const byte of piece) if (byte === 0x0a) lines++;
          });
          res.on('end', () => resolve(lines));
          res.resume();
        }, 500);
        res.on('error', reject);
      });
      req.on('error', reject);
      // Many lines in each chunk: 1,000 lines of two bytes.
      for (let i = 0; i < LINES / 1000; i++) req.write('x\n'.repeat(1000));
      req.end();
    });
    expect(answered).toBe(LINES);
    expect(mostInTurn).toBeLessThanOrEqual(LINES_PER_TURN);
    expect(mostBuffered).toBeLessThan(256 * 1024);
  });
});
