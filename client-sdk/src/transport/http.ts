/**
 * What the stream and the poller share: the request headers, a watchdog that aborts a request
 * when the service goes silent, and the translation of fetch's failures into SwitchyardErrors.
 */
import { SwitchyardError, type SwitchyardOperation } from '../errors.js';

/** How the transport reaches the service. */
export interface TransportContext {
  /** The service's base URL without a trailing slash (`https://switchyard.internal`). */
  readonly baseUrl: string;
  /** Sent on every request: authorization, app name, SDK name and version. */
  readonly headers: Readonly<Record<string, string>>;
  readonly fetch: typeof globalThis.fetch;
  /** True when `fetch` is Node's own (the host passed none): the stream then uses node:http directly (node-stream.ts). */
  readonly nodeStream: boolean;
  /** Nothing received for this long: the request or stream is dead. */
  readonly idleTimeoutMs: number;
}

/**
 * Aborts `controller` with a TIMEOUT error unless `touch()` is called at least every `ms`.
 *
 * "Nothing received" must mean the service sent nothing, not that the host's event loop was too
 * busy to look: after a stall longer than `ms` (a long synchronous task in the host), the timer
 * fires in the same loop turn as the bytes that arrived meanwhile are about to be read. So on
 * expiry it checks again after the I/O phase (setImmediate), and only aborts if still untouched.
 */
export class Watchdog {
  private readonly timer: ReturnType<typeof setTimeout>;
  private recheck: ReturnType<typeof setImmediate> | undefined;
  private touches = 0;

  constructor(controller: AbortController, ms: number, operation: SwitchyardOperation) {
    this.timer = setTimeout(() => {
      const seen = this.touches;
      this.recheck = setImmediate(() => {
        this.recheck = undefined;
        if (this.touches !== seen) return; // data was waiting: touch() re-armed the timer
        controller.abort(new SwitchyardError('TIMEOUT', operation, `nothing received from the service for ${ms} ms`));
      });
    }, ms);
    // The watchdog alone must not keep the host process alive (the socket it guards does, while open).
    this.timer.unref();
  }

  /** Something arrived: restart the countdown (Timeout.refresh re-arms without allocating a timer). */
  touch(): void {
    this.touches++;
    this.timer.refresh();
  }

  stop(): void {
    clearTimeout(this.timer);
    if (this.recheck !== undefined) clearImmediate(this.recheck);
  }
}

/**
 * Links a request's own controller to the client's lifetime signal, so that `close()` aborts every
 * request in flight. Returns the unlink function (call it in `finally`, or the listener leaks).
 */
export function linkAbort(lifetime: AbortSignal, controller: AbortController): () => void {
  if (lifetime.aborted) {
    controller.abort(lifetime.reason);
    return () => {};
  }
  const onAbort = (): void => controller.abort(lifetime.reason);
  lifetime.addEventListener('abort', onAbort, { once: true });
  return () => lifetime.removeEventListener('abort', onAbort);
}

/**
 * Turns whatever fetch or a body read threw into a SwitchyardError. When our own controller aborted
 * the request, its reason says why (our TIMEOUT, or the client closing).
 */
export function toTransportError(error: unknown, signal: AbortSignal, operation: SwitchyardOperation): unknown {
  if (signal.aborted) return signal.reason;
  if (error instanceof SwitchyardError) return error;
  // fetch reports every network failure as TypeError('fetch failed') with the real one in `cause`.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const detail = cause instanceof Error ? `${(cause as NodeJS.ErrnoException).code ?? cause.name}: ${cause.message}` : String(cause);
  return new SwitchyardError('NETWORK_ERROR', operation, `cannot reach the service (${detail})`, { cause: error });
}

/** The SwitchyardError for a non-2xx answer, with the service's error code when its body has one. */
export async function httpError(response: Response, operation: SwitchyardOperation, what: string): Promise<SwitchyardError> {
  let serviceCode: string | undefined;
  let serviceMessage: string | undefined;
  try {
    const body = (await response.json()) as { errors?: { message?: unknown; extensions?: { code?: unknown; errorCode?: unknown } }[] };
    const first = body.errors?.[0];
    const code = first?.extensions?.errorCode ?? first?.extensions?.code;
    if (typeof code === 'string') serviceCode = code;
    if (typeof first?.message === 'string') serviceMessage = first.message;
  } catch {
    // Not a JSON error body (a proxy's HTML page, an empty 502): the status says enough.
  }
  const status = response.status;
  const code = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : 'HTTP_ERROR';
  const suffix = serviceMessage === undefined ? '' : `: ${serviceMessage}`;
  return new SwitchyardError(code, operation, `${what} answered ${status}${suffix}`, { httpStatus: status, serviceCode });
}

/**
 * The SwitchyardError for a non-2xx answer to the snapshot or stream request. The service answers
 * those with 200, 304, 401, 403 or 5xx only; any other 4xx (a 404, or the 400 of Apollo's CSRF
 * check when `url` is the GraphQL endpoint and the request lands on `/graphql/sdk/v1/...`) says the
 * request never reached them: the base URL is wrong, and the host should hear that, not the message
 * of whatever answered. 408 and 429 are a proxy's "later", not a wrong address.
 */
export async function endpointError(response: Response, transport: TransportContext, operation: 'stream' | 'poll', path: string): Promise<SwitchyardError> {
  const error = await httpError(response, operation, `GET ${path}`);
  const status = response.status;
  if (status < 400 || status > 499 || status === 401 || status === 403 || status === 408 || status === 429) return error;
  return new SwitchyardError('WRONG_URL', operation, wrongUrlMessage(transport.baseUrl, `GET ${transport.baseUrl}${path} answered ${status}`), {
    httpStatus: status,
    serviceCode: error.serviceCode,
  });
}

/**
 * What a WRONG_URL error says: the URL given, what shows it is wrong, and the form expected.
 *
 * @param baseUrl - `options.url` as the SDK uses it (no trailing slash).
 * @param seen - what shows it is wrong (`GET .../sdk/v1/stream answered 404`).
 */
export function wrongUrlMessage(baseUrl: string, seen: string): string {
  const graphql = /\/graphql$/i.test(baseUrl) ? ', not its /graphql endpoint' : '';
  return `options.url ${baseUrl} does not lead to the Switchyard service (${seen}): give the service's base URL${graphql}, e.g. https://switchyard.example.com (no path: the SDK adds /sdk/v1/... itself)`;
}

/** Reads a whole body as text, touching the watchdog on every chunk (a large snapshot on a slow link is not silence). */
export async function readText(response: Response, watchdog: Watchdog): Promise<string> {
  if (response.body === null) return '';
  const decoder = new TextDecoder();
  const parts: string[] = [];
  // A fetch body is a byte stream; the DOM types leave its chunks untyped.
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    watchdog.touch();
    parts.push(decoder.decode(value, { stream: true }));
  }
  parts.push(decoder.decode());
  return parts.join('');
}
