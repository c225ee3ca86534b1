/**
 * The report stream (PROTOCOL.md, "The report stream"): the usage reports of one client as lines of
 * one long-lived `POST /sdk/v1/metrics/stream`, each answered by a line, over Node's own `http` /
 * `https` (fetch cannot read an answer while its request is still being sent). The service then does
 * one request's work (parsing, the token's check, a response head) per stream rather than per report:
 * at 1,000 instances reporting every 2 s, about a third of its CPU (docs/outcomes.md).
 *
 * One report in flight at a time (the reporter never sends two at once). A line is written only
 * once the service's `200` is in: a proxy that buffers request bodies would otherwise deliver it
 * when the request ends, after the reporter had sent the same figures by POST.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** The path of the stream, as the service's `switchyard-report-stream` header names it. */
export const REPORT_STREAM_PATH = '/sdk/v1/metrics/stream';

/** An answer line: the status its POST would have had, and the line itself (for an error, the POST's error body with `status`). */
export interface StreamAnswer {
  readonly status: number;
  readonly line: string;
  /** The headers of the stream's `200` (what the service reads: `switchyard-compact-outcomes`), kept with the answer: the stream may have ended by the time it is read. */
  readonly head: IncomingMessage['headers'];
}

/**
 * The stream could not carry a report: `reason` says why. `unanswered`: the service ended the stream
 * cleanly before answering it (its lifetime, a shutdown): it did not take the report, which may be
 * sent again at once. Otherwise whether it was taken is unknown when `written`.
 */
export class StreamFailure extends Error {
  constructor(
    readonly reason: 'refused' | 'unanswered' | 'timeout' | 'broken',
    readonly written: boolean,
    message: string,
    /** For `refused`: the status of the service's answer to the stream's opening. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * The service answers a stream's opening at once: without a `200` this soon, the stream is given up
 * (likely a proxy that holds request bodies until they end) and the report goes by POST.
 */
export const STREAM_OPEN_TIMEOUT_MS = 2_000;

/** Error bodies and answer lines are small; a proxy's page is cut here. */
const MAX_PENDING_TEXT = 64 * 1024;

export class ReportStream {
  private req: ClientRequest | undefined;
  private res: IncomingMessage | undefined;
  /** The answer awaited (one report in flight at most). */
  private waiter: { resolve(answer: StreamAnswer): void; fail(error: StreamFailure): void } | undefined;
  private pending = '';

  constructor(
    private readonly url: string,
    private readonly headers: Readonly<Record<string, string>>,
  ) {}

  /**
   * Writes `line` (one report's JSON, no newline) and resolves with its answer, opening the stream
   * first when none is open. Rejects with a StreamFailure; the stream is then closed.
   */
  async send(line: string, timeoutMs: number): Promise<StreamAnswer> {
    const deadline = Date.now() + timeoutMs;
    if (this.res === undefined) await this.open(Math.min(timeoutMs, STREAM_OPEN_TIMEOUT_MS));
    const req = this.req;
    if (req === undefined) throw new StreamFailure('broken', false, 'the report stream ended as it opened');
    return new Promise<StreamAnswer>((resolve, reject) => {
      const timer = setTimeout(() => fail(new StreamFailure('timeout', true, `no answer on ${REPORT_STREAM_PATH} within ${timeoutMs} ms`)), Math.max(0, deadline - Date.now()));
      timer.unref();
      const fail = (error: StreamFailure): void => {
        clearTimeout(timer);
        this.waiter = undefined;
        this.close();
        reject(error);
      };
      this.waiter = {
        resolve: (answer) => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve(answer);
        },
        fail,
      };
      req.write(`${line}\n`);
    });
  }

  /** Ends the stream (the request's end: the service answers what it has read, then ends). */
  close(): void {
    const req = this.req;
    this.req = undefined;
    this.res = undefined;
    this.pending = '';
    if (req === undefined) return;
    req.end();
    // The service ends its answer once the request has ended; a stream that does not is dropped.
    const drop = setTimeout(() => req.destroy(), 1_000);
    drop.unref();
    req.once('close', () => clearTimeout(drop));
  }

  /** Ends the stream at once, a report in flight included (the client closing). */
  destroy(): void {
    const req = this.req;
    this.close();
    req?.destroy();
  }

  private open(timeoutMs: number): Promise<void> {
    const request = this.url.startsWith('https:') ? httpsRequest : httpRequest;
    return new Promise<void>((resolve, reject) => {
      const req = request(this.url + REPORT_STREAM_PATH, {
        method: 'POST',
        headers: { ...this.headers, 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked' },
      });
      this.req = req;
      // Background work: an open stream alone does not keep the host's process alive (as a POST's idle socket does not).
      req.on('socket', (socket) => socket.unref());
      let settled = false;
      const refuse = (error: StreamFailure): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.req === req) this.req = undefined;
        req.destroy();
        reject(error);
      };
      // No 200 in time: likely a proxy holding the request's body until it ends.
      const timer = setTimeout(() => refuse(new StreamFailure('timeout', false, `no answer to POST ${REPORT_STREAM_PATH} within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      req.on('error', (error) => {
        refuse(new StreamFailure('broken', false, `POST ${REPORT_STREAM_PATH}: ${error.message}`));
        this.lost(req, new StreamFailure('broken', true, `the report stream failed: ${error.message}`));
      });
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          refuse(new StreamFailure('refused', false, `POST ${REPORT_STREAM_PATH} answered ${res.statusCode ?? 0}`, res.statusCode));
          return;
        }
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        clearTimeout(timer);
        this.res = res;
        res.setEncoding('utf8');
        res.on('data', (text: string) => this.read(req, text));
        res.on('close', () =>
          // A clean end (the stream's lifetime, a shutdown) did not take a report left unanswered.
          this.lost(
            req,
            res.complete ? new StreamFailure('unanswered', true, 'the service ended the report stream') : new StreamFailure('broken', true, 'the report stream was cut'),
          ),
        );
        resolve();
      });
      req.flushHeaders();
    });
  }

  private read(req: ClientRequest, text: string): void {
    // A stream closed since (given up after a timeout) may still answer: not for the report in flight now.
    if (this.req !== req) return;
    this.pending += text;
    for (let newline = this.pending.indexOf('\n'); newline !== -1; newline = this.pending.indexOf('\n')) {
      const line = this.pending.slice(0, newline).trim();
      this.pending = this.pending.slice(newline + 1);
      if (line === '') continue;
      const status = statusOf(line);
      if (status === undefined) {
        this.lost(req, new StreamFailure('broken', true, `the report stream answered a line that is not an answer: ${line.slice(0, 100)}`));
        return;
      }
      this.waiter?.resolve({ status, line, head: this.res?.headers ?? {} });
    }
    if (this.pending.length > MAX_PENDING_TEXT) this.lost(req, new StreamFailure('broken', true, 'the report stream answered a line too long to be an answer'));
  }

  /** The stream `req` ended or failed: the report in flight (if any) fails with `error`, and the stream is closed. */
  private lost(req: ClientRequest, error: StreamFailure): void {
    if (this.req === req || this.req === undefined) {
      const waiter = this.waiter;
      this.waiter = undefined;
      if (this.req === req) this.close();
      waiter?.fail(error);
    }
  }
}

/** The `status` of an answer line, or undefined when the line is not one. */
function statusOf(line: string): number | undefined {
  try {
    const value = JSON.parse(line) as { status?: unknown };
    return typeof value.status === 'number' && Number.isInteger(value.status) && value.status >= 100 && value.status <= 599 ? value.status : undefined;
  } catch {
    return undefined;
  }
}
