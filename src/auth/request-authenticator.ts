import type { IncomingHttpHeaders } from 'node:http';
import { Injectable } from '@nestjs/common';
import { ApiTokensService } from './api-tokens.service.js';
import { AuthException } from '../access/auth.exception.js';
import { ConsoleSessionsService, csrfTokenMatches } from './console-sessions.service.js';
import type { Principal } from '../access/roles.js';

/** The cookie that carries a console session's secret (console-session.controller.ts sets it). */
export const SESSION_COOKIE = 'switchyard_session';
/** The header a console page sends its session's CSRF token in. */
export const CSRF_HEADER = 'x-switchyard-csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The parts of a request that say who sends it. */
export interface CredentialsOf {
  readonly method?: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

/**
 * Who sends a request: the token of its `Authorization` header (services, the CLI, scripts), else
 * the console session of its cookie (people in the console). A header always wins, so a client
 * that sends one is never judged by a cookie it did not mean to send. A request signed in by the
 * cookie that is not a GET must carry the session's CSRF token (ConsoleSessionsService).
 */
@Injectable()
export class RequestAuthenticator {
  constructor(
    private readonly tokens: ApiTokensService,
    private readonly sessions: ConsoleSessionsService,
  ) {}

  /**
   * The caller when it is known without a wait: a token in `Authorization` verified before (see
   * ApiTokensService.knownPrincipal). Null otherwise, including every console session: then
   * `authenticate`, which answers the same for a known token.
   */
  known(req: CredentialsOf, options: { readonly allowBareToken?: boolean } = {}): Principal | null {
    const authorization = req.headers.authorization;
    return authorization === undefined ? null : this.tokens.knownPrincipal(authorization, options);
  }

  authenticate(req: CredentialsOf, options: { readonly allowBareToken?: boolean } = {}): Promise<Principal> {
    const authorization = req.headers.authorization;
    if (authorization !== undefined) return this.tokens.authenticateHeader(authorization, options);
    const secret = sessionSecretOf(req.headers.cookie);
    if (secret === null) return Promise.reject(AuthException.unauthenticated());
    if (!SAFE_METHODS.has(req.method ?? 'GET') && !csrfTokenMatches(secret, single(req.headers[CSRF_HEADER]))) {
      return Promise.reject(AuthException.csrfTokenMissing());
    }
    return this.sessions.principalFor(secret);
  }
}

/** The session secret in a Cookie header, or null. Other cookies (of other apps on the host) are ignored. */
export function sessionSecretOf(cookieHeader: string | undefined): string | null {
  if (cookieHeader === undefined) return null;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    // Our secrets are base64url behind a prefix: anything else is not ours (and is not looked up).
    return /^sys_[A-Za-z0-9_-]{43}$/.test(value) ? value : null;
  }
  return null;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}
