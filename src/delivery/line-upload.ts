import type { IncomingMessage, ServerResponse } from 'node:http';

/** Lines handled per turn of the event loop: a chunk full of small lines must not hold it. */
export const LINES_PER_TURN = 32;
/** How long a request may go on sending after its answer ended before its connection is cut. */
export const UPLOAD_END_GRACE_MS = 5_000;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export interface LineUploadOptions {
  /** A line longer than this (newline excluded) ends the upload after `tooLong`'s answer: nothing after it can be framed. */
  readonly maxLineBytes: number;
  /** The answer to one non-blank line (the line without its newline), without its newline. Must not throw. */
  readonly answer: (line: Buffer) => string;
  /** The answer written, without its newline, before the upload ends for a line over `maxLineBytes`. */
  readonly tooLong: () => string;
}

/**
 * One long-lived request whose body is a sequence of documents, one per line, each answered by one
 * line of the response, in order (the SDK's report stream: delivery-http.handler.ts, PROTOCOL.md).
 * The response's head is the caller's; this reads the body as it arrives and writes the answers.
 *
 * - Blank lines (keep-alives) are skipped and not answered; a `\r` before the newline is dropped.
 * - Bounded: a line over `maxLineBytes` is answered by `tooLong` (after the lines before it), which
 *   ends the upload: the bytes held never exceed the limit, and nothing after it is read; at most
 *   LINES_PER_TURN lines are handled per turn of the event loop, the request paused meanwhile; and
 *   the request is paused while the client does not read its answers (the socket's buffer full).
 * - Ending the response (`end`, or anyone's `res.end()`: a token withdrawn, a shutdown) stops it: a
 *   line read after that is neither handled nor answered, so a client may take every line that got
 *   no answer as not received. The rest of the body is read and discarded; a client that has not
 *   ended its request UPLOAD_END_GRACE_MS after the answer's end has its connection cut.
 * - The last line needs no newline when the request ends after it.
 */
export class LineUpload {
  /** Complete lines not handled yet (at most one chunk's worth: the request is paused while any wait). */
  private readonly waiting: Buffer[] = [];
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private requestEnded = false;
  private scheduled = false;
  private draining = false;
  /** A line over the limit was met: the lines before it are answered, then its answer ends the upload. */
  private overlong = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly options: LineUploadOptions,
  ) {
    req.on('data', (chunk: Buffer) => this.read(chunk));
    req.on('end', () => {
      this.requestEnded = true;
      if (this.partialBytes > 0 && !this.overlong) this.waiting.push(this.takePartial());
      this.handleWaiting();
    });
    res.once('finish', () => {
      if (this.req.complete) return;
      const cut = setTimeout(() => this.req.socket?.destroy(), UPLOAD_END_GRACE_MS);
      cut.unref();
      this.req.once('end', () => clearTimeout(cut));
      this.req.once('close', () => clearTimeout(cut));
    });
  }

  /** Whether answers may still be written (the response not ended). */
  get open(): boolean {
    return !this.res.writableEnded;
  }

  /** Ends the upload now, after the answers written so far: lines not answered yet never will be. */
  end(): void {
    if (!this.open) return;
    this.waiting.length = 0;
    this.res.end();
  }

  private read(chunk: Buffer): void {
    if (!this.open || this.overlong) return;
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      if (!this.hold(chunk.subarray(start, newline))) return;
      this.waiting.push(this.takePartial());
      start = newline + 1;
    }
    if (start < chunk.length && !this.hold(chunk.subarray(start))) return;
    this.handleWaiting();
  }

  /** Adds `bytes` to the line being read; false when that makes it too long (the rest of the body is then discarded). */
  private hold(bytes: Buffer): boolean {
    if (bytes.length === 0) return true;
    this.partialBytes += bytes.length;
    // One byte of slack for a `\r` before the newline, dropped below.
    if (this.partialBytes > this.options.maxLineBytes + 1) {
      this.overlong = true;
      this.partial = [];
      this.partialBytes = 0;
      this.handleWaiting();
      return false;
    }
    this.partial.push(bytes);
    return true;
  }

  private takePartial(): Buffer {
    const line = this.partial.length === 1 ? this.partial[0]! : Buffer.concat(this.partial, this.partialBytes);
    this.partial = [];
    this.partialBytes = 0;
    return line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN ? line.subarray(0, line.length - 1) : line;
  }

  /** Handles up to `limit` waiting lines now; pauses the request while lines wait or answers do not drain. */
  private handleWaiting(limit = LINES_PER_TURN): void {
    let handled = 0;
    while (this.waiting.length > 0 && handled < limit && this.open && !this.draining) {
      const line = this.waiting.shift()!;
      if (isBlank(line)) continue;
      handled++;
      if (!this.res.write(`${this.options.answer(line)}\n`) && this.open) {
        this.draining = true;
        this.res.once('drain', () => {
          this.draining = false;
          // In a later turn: while the kernel takes writes at once, 'drain' comes on the same
          // turn's tick queue, and answering from it would chain batch after batch in one turn.
          this.scheduleWaiting();
        });
      }
    }
    if (!this.open) return;
    if (this.waiting.length > 0 || this.draining) {
      this.req.pause();
      if (!this.draining) this.scheduleWaiting();
      return;
    }
    if (this.overlong) {
      // In order: its answer follows those of the lines before it.
      this.res.write(`${this.options.tooLong()}\n`);
      this.end();
    } else if (this.requestEnded) this.res.end();
    else this.req.resume();
  }

  private scheduleWaiting(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.handleWaiting();
    });
  }
}

function isBlank(line: Buffer): boolean {
  for (let i = 0; i < line.length; i++) {
    const byte = line[i]!;
    if (byte !== 0x20 && byte !== 0x09) return false;
  }
  return true;
}
