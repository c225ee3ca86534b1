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
