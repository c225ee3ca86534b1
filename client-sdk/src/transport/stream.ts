/**
 * The live stream: `GET /sdk/v1/stream` as Server-Sent Events over fetch (PROTOCOL.md), parsed by
 * our own {@link SseParser}. One call is one connection: it resolves when the service ends the
 * stream and rejects when the connection fails or goes silent. Reconnecting, backing off and
 * falling back to polling are the client's decisions, not this module's.
 */
import { SwitchyardError } from '../errors.js';
import { httpError, linkAbort, toTransportError, Watchdog, type TransportContext } from './http.js';
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
 * @throws SwitchyardError (UNAUTHORIZED, FORBIDDEN, HTTP_ERROR, NETWORK_ERROR, TIMEOUT when no byte
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
    const response = await transport.fetch(`${transport.baseUrl}${STREAM_PATH}?delta=1`, { headers, signal: controller.signal });
    watchdog.touch();
    if (!response.ok) throw await httpError(response, 'stream', `GET ${STREAM_PATH}`);
    const contentType = response.headers.get('content-type') ?? '';
    if (!contentType.toLowerCase().startsWith('text/event-stream') || response.body === null) {
      // A proxy or an older service answering something else: treat it as a failed attempt, so
      // the client backs off and polls instead of waiting for events that will never come.
      throw new SwitchyardError('HTTP_ERROR', 'stream', `GET ${STREAM_PATH} answered ${response.status} with content-type "${contentType}", not an event stream`, {
        httpStatus: response.status,
      });
    }
    handlers.onOpen();

    const parser = new SseParser((event) => handlers.onEvent(event));
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      watchdog.touch();
      parser.push(decoder.decode(value, { stream: true }));
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
