import { Body, Controller, Delete, Get, HttpCode, Inject, Logger, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Public } from '../access/auth.decorators.js';
import { AuthException } from '../access/auth.exception.js';
import { ConsoleSessionsService, csrfTokenMatches } from '../auth/console-sessions.service.js';
import { CSRF_HEADER, SESSION_COOKIE, sessionSecretOf } from '../auth/request-authenticator.js';
import { SwitchyardException } from '../common/errors/switchyard.exception.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { type ConsoleAsset, type ConsoleBundle, loadConsoleBundle } from './console-assets.js';
import { SignInInput } from './dto/sign-in.input.js';

/** Read by console/src/boot.ts: if you rename it, rename it there. */
const SIGNED_IN_HINT_COOKIE = 'switchyard_signed_in';

/**
 * The web console: its files, and its sign-in (docs/console.md). The console itself is a client of
 * the public GraphQL API and the documented SDK stream; these routes only serve it and exchange a
 * token for a session cookie. Every route is public at the guard: sign-in checks the token itself,
 * and the session routes read their own cookie.
 */
@Controller()
export class ConsoleController {
  private readonly logger = new Logger(ConsoleController.name);
  private readonly bundle: ConsoleBundle;

  constructor(
    private readonly sessions: ConsoleSessionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.bundle = loadConsoleBundle();
    if (!this.bundle.built) this.logger.warn('the console is not built (dist/console/app): `npm run build` builds it; /console/ says so meanwhile');
  }

  @Get()
  @Public()
  root(@Res() res: Response): void {
    res.redirect(302, '/console/');
  }

  /** Exchanges a token for a session: the secret goes in an HttpOnly cookie, the CSRF token in the body. */
  @Post('console/session')
  @Public()
  @HttpCode(200)
  async signIn(@Req() req: Request, @Body() input: SignInInput, @Res({ passthrough: true }) res: Response) {
    // JSON only: a cross-site form (text/plain, urlencoded) cannot sign a browser in to someone else's token.
    if (!req.is('application/json')) throw InvalidContentType.json();
    const opened = await this.sessions.open(input.token.trim());
    const maxAge = Math.max(1, Math.floor((opened.expiresAt.getTime() - Date.now()) / 1000));
    res.setHeader('set-cookie', [this.cookie(req, opened.secret, maxAge), this.signedInHint(req, maxAge)]);
    res.setHeader('cache-control', 'no-store');
    return { signedIn: true, name: opened.principal.name, role: opened.principal.role, csrfToken: opened.csrfToken, expiresAt: opened.expiresAt.toISOString() };
  }

  /**
   * Who is signed in, with the CSRF token the page sends back; `{"signedIn": false}` when nobody
   * is (no cookie, or its session ended): a page asking on load is not an error.
   */
  @Get('console/session')
  @Public()
  async session(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    res.setHeader('cache-control', 'no-store');
    const secret = sessionSecretOf(req.headers.cookie);
    if (secret === null) return { signedIn: false };
    const view = await this.sessions.find(secret);
    if (view === null) return { signedIn: false };
    return { signedIn: true, name: view.name, role: view.role, csrfToken: view.csrfToken, expiresAt: view.expiresAt.toISOString() };
  }

  /** Sign-out: ends the session on the server (every instance) and clears the cookie. */
  @Delete('console/session')
  @Public()
  @HttpCode(204)
  async signOut(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    const secret = sessionSecretOf(req.headers.cookie);
    if (secret !== null) {
      if (!csrfTokenMatches(secret, req.header(CSRF_HEADER))) throw AuthException.csrfTokenMissing();
      await this.sessions.end(secret);
    }
    res.setHeader('set-cookie', [this.cookie(req, '', 0), this.signedInHint(req, 0)]);
  }

  /** The page. Express matches `/console` and `/console/` alike: the page's relative links need the slash. */
  @Get('console')
  @Public()
  page(@Req() req: Request, @Res() res: Response): void {
    if (!req.path.endsWith('/')) return res.redirect(302, '/console/');
    this.send(req, res, this.bundle.built ? this.bundle.assets.get('index.html') : undefined);
  }

  @Get('console/*path')
  @Public()
  asset(@Param('path') path: string[] | string, @Req() req: Request, @Res() res: Response): void {
    const name = Array.isArray(path) ? path.join('/') : path;
    this.send(req, res, this.bundle.assets.get(name));
  }

  private send(req: Request, res: Response, asset: ConsoleAsset | undefined): void {
    res.setHeader('content-security-policy', this.bundle.contentSecurityPolicy);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('x-frame-options', 'DENY');
    if (asset === undefined) {
      const missing = !this.bundle.built && req.path === '/console/';
      res
        .status(missing ? 503 : 404)
        .type('text/plain')
        .send(missing ? 'The console is not built: run `npm run build` (npm start does), then reload.' : 'Not found.');
      return;
    }
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('etag', asset.etag);
    res.setHeader('vary', 'accept-encoding');
    if (req.headers['if-none-match'] === asset.etag) {
      res.status(304).end();
      return;
    }
    const accepted = req.headers['accept-encoding'] ?? '';
    const [encoding, body] = /\bbr\b/.test(accepted) ? ['br', asset.brotli] : /\bgzip\b/.test(accepted) ? ['gzip', asset.gzip] : [null, asset.body];
    if (encoding !== null) res.setHeader('content-encoding', encoding);
    res.status(200).type(asset.contentType).send(body);
  }

  /**
   * A hint the page reads (not HttpOnly, and holding nothing: the session is the other cookie) that
   * this browser signed in, for as long as the session: boot.js then asks for the slice list in
   * parallel with the session instead of after it, without sending a request that is refused when
   * nobody is signed in. A stale hint (a session revoked meanwhile) costs one refused request.
   */
  private signedInHint(req: Request, maxAgeSeconds: number): string {
    const secure = this.config.consoleSecureCookie || req.secure;
    return `${SIGNED_IN_HINT_COOKIE}=${maxAgeSeconds > 0 ? '1' : ''}; Path=/; Max-Age=${maxAgeSeconds}; SameSite=Strict${secure ? '; Secure' : ''}`;
  }

  /** The session cookie: HttpOnly, SameSite=Strict, for the whole origin; Secure over TLS or when configured. */
  private cookie(req: Request, value: string, maxAgeSeconds: number): string {
    const secure = this.config.consoleSecureCookie || req.secure;
    return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  }
}

class InvalidContentType extends SwitchyardException {
  static json(): InvalidContentType {
    return new InvalidContentType('INVALID_INPUT', 'Sign in with a JSON body: {"token": "..."} and content-type application/json.', { field: 'content-type' });
  }
}
