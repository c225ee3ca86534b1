/**
 * The live stream: `GET /sdk/v1/stream` as Server-Sent Events (PROTOCOL.md), over node:http
 * (node-stream.ts) or, when the host passed a `fetch` of its own (a proxy, mTLS), over that fetch;
 * parsed by our own {@link SseParser}. One call is one connection: it resolves when the service ends the
 * stream and rejects when the connection fails or goes silent. Reconnecting, backing off and
 * falling back to polling are the synchroniser's decisions (sync/snapshot-sync.ts), not this module's.
 */
import { SwitchyardError } from '../errors.js';
import { endpointError, linkAbort, toTransportError, Watchdog, type TransportContext } from './http.js';
import { openNodeStream } from './node-stream.js';
import { SseLimitError, SseParser, type ServerSentEvent } from './sse-parser.js';

/** The path of the stream endpoint, relative to the service's base URL. */
export const STREAM_PATH = '/sdk/v1/stream';

/** Callbacks of one stream connection. */
export interface StreamHandlers {
  /** The service accepted the stream (200, `text/event-stream`): the connection is up. */
  onOpen(): void;
  /** One event (`snapshot`, `delta`, `heartbeat`, or a type this SDK does not know, which it should ignore). */
  onEvent(event: ServerSentEvent): void;
}

/**
 * Opens the stream and reads it until it ends.
 *
 * @param lastEventId - the revision the client holds from the service, sent as `Last-Event-ID` so
 *   the service skips the initial snapshot when it is current; undefined asks for it.
 * @param lifetime - aborted when the client closes.
 * @returns when the service ends the stream normally.
 * @throws SwitchyardError (UNAUTHORIZED, FORBIDDEN, WRONG_URL, HTTP_ERROR, NETWORK_ERROR, TIMEOUT when no byte
 *   arrived for `idleTimeoutMs`, STREAM_PROTOCOL), or the lifetime signal's reason when the client closed.
 */
export async function readStream(transport: TransportContext, lastEventId: number | undefined, lifetime: AbortSignal, handlers: StreamHandlers): Promise<void> {
  const controller = new AbortController();
  const unlink = linkAbort(lifetime, controller);
  // Armed before the request: a service that accepts the connection and never answers is as dead
  // as one that stops sending heartbeats.
  const watchdog = new Watchdog(controller, transport.idleTimeoutMs, 'stream');
  try {
    const headers: Record<string, string> = { ...transport.headers, accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
    // delta=1: this SDK applies `delta` events (a changed slice instead of the whole snapshot).
    const url = `${transport.baseUrl}${STREAM_PATH}?delta=1`;
    const parser = new SseParser((event) => handlers.onEvent(event));
    const onText = (text: string): void => {
      watchdog.touch();
      parser.push(text);
    };

    if (transport.nodeStream) {
      const response = await openNodeStream(url, headers, controller.signal);
      watchdog.touch();
      if (response.status < 200 || response.status > 299) throw await endpointError(await response.toResponse(), transport, 'stream', STREAM_PATH);
      if (!isEventStream(response.contentType)) throw notAnEventStream(response.status, response.contentType);
      handlers.onOpen();
      await response.pipe(onText);
      return;
    }

    const response = await transport.fetch(url, { headers, signal: controller.signal });
    watchdog.touch();
    if (!response.ok) throw await endpointError(response, transport, 'stream', STREAM_PATH);
    const contentType = response.headers.get('content-type') ?? '';
    if (!isEventStream(contentType) || response.body === null) throw notAnEventStream(response.status, contentType);
    handlers.onOpen();

    const decoder = new TextDecoder();
    // A fetch body is a byte stream; the DOM types leave its chunks untyped.
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      onText(decoder.decode(value, { stream: true }));
    }
  } catch (error) {
    if (error instanceof SseLimitError && !controller.signal.aborted) {
      throw new SwitchyardError('STREAM_PROTOCOL', 'stream', error.message, { cause: error });
    }
    throw toTransportError(error, controller.signal, 'stream');
  } finally {
    watchdog.stop();
    unlink();
    // Closes the connection on every way out (error, protocol violation, client closing).
    controller.abort();
  }
}

function isEventStream(contentType: string): boolean {
  return contentType.toLowerCase().startsWith('text/event-stream');
}

/**
 * A proxy or an older service answering something else than an event stream: treated as a failed
 * attempt, so the client backs off and polls instead of waiting for events that will never come.
 */
function notAnEventStream(status: number, contentType: string): SwitchyardError {
  return new SwitchyardError('HTTP_ERROR', 'stream', `GET ${STREAM_PATH} answered ${status} with content-type "${contentType}", not an event stream`, {
    httpStatus: status,
  });
}
