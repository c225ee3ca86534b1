/**
 * A Server-Sent Events parser (the "event stream interpretation" of the WHATWG HTML standard),
 * small enough to own instead of depending on a package: the SDK has no runtime dependencies.
 *
 * Fed decoded text in chunks of any size (a chunk may end in the middle of a line, or between the
 * CR and LF of one line ending); emits one event per blank-line-terminated block that carried
 * data. Lines end with LF, CR or CRLF; lines starting with ':' are comments (servers use them as
 * keep-alives); `data` lines accumulate, joined with LF; `id` persists across events as the
 * standard says; `retry` is reported but the SDK uses its own backoff.
 *
 * A line is never rescanned: each chunk is searched once for line endings (with `indexOf`, which is
 * native), and the pieces of an unfinished line are kept in a list, so a multi-megabyte snapshot
 * arriving in 64 KiB chunks costs linear time.
 */

/** One dispatched event. */
export interface ServerSentEvent {
  /** The `event` field, or `message` when the block had none. */
  readonly type: string;
  /** The `data` lines joined with LF. */
  readonly data: string;
  /** The last `id` seen on the stream so far (empty when none). */
  readonly id: string;
}

/** Thrown by {@link SseParser.push} when a line or an event's data exceeds the limit. */
export class SseLimitError extends Error {
  override readonly name = 'SseLimitError';
}

/** 64 MiB: far above any real snapshot, far below what would hurt the host. */
export const DEFAULT_MAX_EVENT_CHARS = 64 * 1024 * 1024;

const LF = '\n';
const CR = '\r';

export class SseParser {
  private readonly pieces: string[] = [];
  private piecesLength = 0;
  /** The previous chunk ended with CR: a LF at the start of the next one ends the same line. */
  private skipLeadingLf = false;
  private started = false;

  private eventType = '';
  private readonly data: string[] = [];
  private dataLength = 0;
  private lastEventId = '';

  /**
   * @param onEvent - called for every dispatched event, synchronously from `push`.
   * @param onRetry - called with a valid `retry` value.
   * @param maxEventChars - limit on one line and on one event's data; beyond it `push` throws
   *   {@link SseLimitError} (a peer that never ends a line must not grow the host's memory forever).
   */
  constructor(
    private readonly onEvent: (event: ServerSentEvent) => void,
    private readonly onRetry: (ms: number) => void = () => {},
    private readonly maxEventChars: number = DEFAULT_MAX_EVENT_CHARS,
  ) {}

  /** Parses the next piece of the stream. */
  push(chunk: string): void {
    let start = 0;
    if (!this.started && chunk.length > 0) {
      this.started = true;
      // A byte-order mark may open the stream (TextDecoder normally strips it already).
      if (chunk.charCodeAt(0) === 0xfeff) start = 1;
    }
    if (this.skipLeadingLf && start < chunk.length) {
      this.skipLeadingLf = false;
      if (chunk[start] === LF) start++;
    }

    let nextLf = chunk.indexOf(LF, start);
    let nextCr = chunk.indexOf(CR, start);
    while (nextLf !== -1 || nextCr !== -1) {
      const end = nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : Math.min(nextLf, nextCr);
      this.line(this.takeLine(chunk, start, end));
      start = end + 1;
      if (end === nextCr) {
        if (start === chunk.length) this.skipLeadingLf = true;
        else if (chunk[start] === LF) start++;
      }
      // Search again only for the terminator we have passed: the other one is still ahead.
      if (nextLf !== -1 && nextLf < start) nextLf = chunk.indexOf(LF, start);
      if (nextCr !== -1 && nextCr < start) nextCr = chunk.indexOf(CR, start);
    }

    if (start < chunk.length) {
      const rest = start === 0 ? chunk : chunk.slice(start);
      this.piecesLength += rest.length;
      if (this.piecesLength > this.maxEventChars) {
        this.pieces.length = 0;
        this.piecesLength = 0;
        throw new SseLimitError(`an event stream line is longer than ${this.maxEventChars} characters`);
      }
      this.pieces.push(rest);
    }
  }

  private takeLine(chunk: string, start: number, end: number): string {
    const tail = chunk.slice(start, end);
    if (this.pieces.length === 0) return tail;
    this.pieces.push(tail);
    const line = this.pieces.join('');
    this.pieces.length = 0;
    this.piecesLength = 0;
    return line;
  }

  private line(line: string): void {
    if (line.length === 0) {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 0x3a /* ':' */) return; // a comment

    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20 /* ' ' */) value = value.slice(1);

    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLength += value.length + 1;
        if (this.dataLength > this.maxEventChars) {
          this.resetEvent();
          throw new SseLimitError(`an event's data is longer than ${this.maxEventChars} characters`);
        }
        this.data.push(value);
        break;
      case 'id':
        // The standard ignores ids containing NUL (they could not be sent back in a header).
        if (!value.includes('\u0000')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.onRetry(Number(value));
        break;
      default:
      // Unknown fields are ignored, as the standard says: room for the protocol to grow.
    }
  }

  private dispatch(): void {
    if (this.data.length === 0) {
      // A block without data (e.g. only `event:` or `id:`) dispatches nothing.
      this.eventType = '';
      return;
    }
    const event: ServerSentEvent = {
      type: this.eventType === '' ? 'message' : this.eventType,
      data: this.data.length === 1 ? (this.data[0] as string) : this.data.join(LF),
      id: this.lastEventId,
    };
    this.resetEvent();
    this.onEvent(event);
  }

  private resetEvent(): void {
    this.eventType = '';
    this.data.length = 0;
    this.dataLength = 0;
  }
}
