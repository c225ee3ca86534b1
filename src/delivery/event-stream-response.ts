import type { IncomingMessage, ServerResponse } from 'node:http';

/** Tells EventSource-style clients how soon to reconnect after a drop. */
const RETRY_HINT_MS = 1_000;

/**
 * Starts a Server-Sent Events response, the same for SDK streams (StreamHub) and Unleash streams
 * (UnleashStreamHub): events are written at once (no Nagle delay), dead peers are noticed by TCP
 * keep-alive, nothing on the way may cache or buffer it, and the first line is the retry hint.
 */
export function startEventStream(req: IncomingMessage, res: ServerResponse): void {
  req.socket.setNoDelay(true);
  req.socket.setKeepAlive(true);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Proxies (nginx) must not buffer the stream.
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${RETRY_HINT_MS}\n\n`);
}

/** Streams written per turn of the event loop when an event fans out. */
const FANOUT_BATCH = 500;

/**
 * Writes one event to many streams, FANOUT_BATCH per turn of the event loop: writing to 10,000
 * sockets takes a few hundred ms of CPU, which must not block every other request (or the next
 * rollback) meanwhile. Before each write, `current()` must still hold: a newer event that
 * overtook this one has been (or is being) written instead, and an older one never follows it.
 */
export function fanOut<T>(targets: readonly T[], write: (target: T) => void, current: () => boolean): void {
  const writeFrom = (start: number) => {
    const end = Math.min(start + FANOUT_BATCH, targets.length);
    for (let i = start; i < end && current(); i++) write(targets[i]!);
    if (end < targets.length && current()) setImmediate(writeFrom, end);
  };
  writeFrom(0);
}

/** How long a shutdown waits for streams to flush their end (a stuck client must not hold it up). */
const SHUTDOWN_FLUSH_MS = 1_000;

/**
 * Ends event streams at shutdown. Called first thing (onModuleDestroy, not a later hook): Apollo's
 * drain, in GraphQLModule's own onModuleDestroy, closes the HTTP server and waits up to 10 s for
 * open responses, and a stream never ends by itself. Each response is ended, flushed, and its
 * socket half-closed (FIN) before the drain may destroy idle sockets: a destroyed socket can reset
 * the connection before the client has read the end. Resolves when all are flushed, or after
 * SHUTDOWN_FLUSH_MS. The clients reconnect (to another instance) and keep what they hold meanwhile.
 */
export async function endEventStreams(responses: Iterable<ServerResponse>): Promise<void> {
  const ends = [...responses].map(
    (res) =>
      new Promise<void>((resolve) => {
        res.end(() => {
          res.socket?.end();
          resolve();
        });
      }),
  );
  await Promise.race([Promise.all(ends), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_FLUSH_MS).unref())]);
}
