import { CliError, missingTokenError } from './errors.js';

/** Where the service is when neither --url nor SWITCHYARD_URL says (the service's default PORT). */
export const DEFAULT_URL = 'http://localhost:4000';
export const DEFAULT_TIMEOUT_SECONDS = 10;

/** The global options, as commander hands them over. */
export interface GlobalOptions {
  readonly url?: string;
  readonly token?: string;
  readonly timeout?: number;
  readonly json?: boolean;
  readonly verbose?: boolean;
}

export interface CliConfig {
  /** The GraphQL endpoint: the base URL with `/graphql` appended unless it already ends so. */
  readonly endpoint: URL;
  /** Sent as `Authorization: Bearer ...`; never printed. */
  readonly token: string;
  readonly timeoutMs: number;
}

/**
 * Flags first, then the environment. Resolved per command (not at start-up) so that `--help`
 * and usage errors need no token.
 */
export function resolveConfig(options: GlobalOptions, env: Readonly<Record<string, string | undefined>>): CliConfig {
  const rawUrl = (options.url ?? env.SWITCHYARD_URL ?? '').trim() || DEFAULT_URL;
  let endpoint: URL;
  try {
    endpoint = new URL(rawUrl);
  } catch {
    throw CliError.usage(`Not a URL: "${rawUrl}".`, `Pass the service's base URL, e.g. --url ${DEFAULT_URL} (or set SWITCHYARD_URL).`);
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    throw CliError.usage(`Not an http(s) URL: "${rawUrl}".`, `Pass the service's base URL, e.g. --url ${DEFAULT_URL}.`);
  }
  if (endpoint.username || endpoint.password) {
    // fetch refuses such URLs anyway; say why, without echoing the credentials.
    throw CliError.usage('The URL must not contain credentials.', 'Put the token in SWITCHYARD_TOKEN (or --token), not in the URL.');
  }
  if (!endpoint.pathname.endsWith('/graphql')) {
    endpoint.pathname = `${endpoint.pathname.replace(/\/+$/, '')}/graphql`;
  }

  const token = (options.token ?? env.SWITCHYARD_TOKEN ?? '').trim();
  if (token === '') throw missingTokenError();

  return { endpoint, token, timeoutMs: Math.round((options.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000) };
}
