import type { CliConfig } from './config.js';
import { CliError, type Intent, type ServiceError, serviceError } from './errors.js';
import { ExitCode } from './exit-codes.js';

/**
 * GraphQL over HTTP with Node's fetch: the service's public API, nothing else (the CLI imports no
 * service code). Every failure becomes a CliError with its exit code; the token goes only into
 * the Authorization header.
 */
export class GraphqlHttpClient {
  constructor(
    private readonly config: CliConfig,
    private readonly userAgent: string,
    /** --verbose: one line per request and per answer. */
    private readonly trace: (line: string) => void = () => {},
  ) {}

  /** The endpoint as printed in messages (never carries credentials: config refuses them). */
  get endpoint(): string {
    return this.config.endpoint.toString();
  }

  async request<T>(query: string, variables: Record<string, unknown>, intent: Intent): Promise<T> {
    let response: Response;
    let text: string;
    const started = performance.now();
    this.trace(`POST ${this.endpoint} ${operationOf(query)}`);
    try {
      // One deadline for the whole exchange: connecting, the answer's headers and its body.
      const signal = AbortSignal.timeout(this.config.timeoutMs);
      response = await fetch(this.config.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${this.config.token}`,
          'user-agent': this.userAgent,
        },
        body: JSON.stringify({ query, variables }),
        signal,
      });
      text = await response.text();
    } catch (error) {
      throw this.transportFailure(error, intent);
    }

    const requestId = response.headers.get('x-request-id');
    this.trace(`HTTP ${response.status} in ${Math.round(performance.now() - started)} ms${requestId ? ` (request id ${requestId})` : ''}`);
    const body = parseJson(text) as { data?: T | null; errors?: ServiceError[] } | undefined;
    // Errors first: a refused token comes with HTTP 401 and the same GraphQL error body.
    const first = Array.isArray(body?.errors) ? body.errors[0] : undefined;
    if (first !== undefined) throw serviceError(first, intent, requestId);
    if (response.ok && body?.data != null) return body.data;

    const what = `${this.endpoint} answered HTTP ${response.status}${body === undefined ? ` (${response.headers.get('content-type') ?? 'no content type'}, not JSON)` : ' without data'}`;
    if (response.status >= 500) {
      throw new CliError({
        exitCode: ExitCode.UNAVAILABLE,
        code: 'HTTP',
        message: `${what}.`,
        hint: `The service, or a proxy in front of it, is failing: retry shortly.${maybeApplied(intent)}`,
      });
    }
    throw new CliError({
      exitCode: ExitCode.UNAVAILABLE,
      code: 'HTTP',
      message: `${what}: it does not look like a Switchyard service.`,
      hint: `Check --url / SWITCHYARD_URL: it should be the service's base URL, e.g. http://switchyard.internal:4000.`,
    });
  }

  private transportFailure(error: unknown, intent: Intent): CliError {
    const name = (error as { name?: unknown } | null)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new CliError({
        exitCode: ExitCode.UNAVAILABLE,
        code: 'TIMEOUT',
        message: `No answer from ${this.endpoint} within ${this.config.timeoutMs / 1000} s.`,
        hint: `Retry, or allow more time with --timeout <seconds>.${maybeApplied(intent)}`,
      });
    }
    return new CliError({
      exitCode: ExitCode.UNAVAILABLE,
      code: 'NETWORK',
      message: `Cannot reach ${this.endpoint}: ${describeNetworkError(error)}.`,
      hint: `Check --url / SWITCHYARD_URL and that the service is running.${maybeApplied(intent)}`,
    });
  }
}

/** For changes: a lost answer does not mean nothing happened; the idempotency key makes a retry safe. */
function maybeApplied(intent: Intent): string {
  return intent.idempotencyKey === undefined
    ? ''
    : ` If the change was sent, it may have been applied: retrying with --idempotency-key ${intent.idempotencyKey} is safe (applied at most once).`;
}

/** `mutation setRollout`, `query slices`: the operation type and its first field, for --verbose. */
function operationOf(query: string): string {
  const match = /^\s*(query|mutation|subscription)?[^{]*\{\s*(\w+)/.exec(query);
  return match ? `${match[1] ?? 'query'} ${match[2]}` : 'query';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
};

/** fetch says only "fetch failed"; the reason is in `cause` (an AggregateError when several addresses were tried). */
function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause ?? error;
  const c = cause as { code?: unknown; message?: unknown; errors?: { code?: unknown }[] } | null;
  const code = typeof c?.code === 'string' ? c.code : typeof c?.errors?.[0]?.code === 'string' ? c.errors[0].code : undefined;
  if (code !== undefined) return NETWORK_CODES[code] ?? code;
  return typeof c?.message === 'string' && c.message !== '' ? c.message : String(cause);
}
