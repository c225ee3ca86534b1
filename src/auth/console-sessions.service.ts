import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { type Clock, CLOCK } from '../common/scheduling/clock.js';
import { startPeriodicTask } from '../common/scheduling/periodic-task.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { ApiTokensService } from './api-tokens.service.js';
import { AuthException } from '../access/auth.exception.js';
import { ConsoleSessionsRepository } from './console-sessions.repository.js';
import type { Principal } from '../access/roles.js';
import { hashTokenSecret } from './token-secret.js';

/** What the browser is given when it signs in (the cookie carries `secret`; the page keeps the rest). */
export interface OpenedSession {
  /** Goes in the HttpOnly cookie only: never in the page, never in storage. */
  readonly secret: string;
  /** Sent by the page in `x-switchyard-csrf` with every request that is not a GET. */
  readonly csrfToken: string;
  readonly principal: Principal;
  readonly expiresAt: Date;
}

/** The page's view of its session (GET /console/session). */
export interface SessionView {
  readonly name: string;
  readonly role: Principal['role'];
  readonly csrfToken: string;
  readonly expiresAt: Date;
}

/** Sessions ended or expired this long ago are deleted (hourly). */
const KEEP_ENDED_MS = 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Console sign-in: a token is exchanged for a session, whose random secret travels only in an
 * HttpOnly, SameSite=Strict cookie (console-session.controller.ts). The session acts as its token
 * (same name in history, same role) and ends at sign-out, at its expiry
 * (SWITCHYARD_CONSOLE_SESSION_HOURS, never after the token's), or when the token is revoked or
 * expires: every use joins the token's row, so a revocation ends sessions on every instance at
 * once. Sessions are not cached: the console sends few requests and each must see a sign-out.
 *
 * CSRF: a request carrying the cookie but not a GET must also carry `x-switchyard-csrf`, derived
 * from the secret (csrfTokenFor). Another site can neither read it (same-origin JSON) nor make the
 * browser add a custom header without a CORS preflight, which this service does not grant; the
 * cookie's SameSite=Strict is the second wall.
 */
@Injectable()
export class ConsoleSessionsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ConsoleSessionsService.name);
  private readonly lifetimeMs: number;
  private stopPruning: (() => void) | null = null;

  constructor(
    private readonly sessions: ConsoleSessionsRepository,
    private readonly tokens: ApiTokensService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.lifetimeMs = config.consoleSessionHours * 3_600_000;
  }

  onModuleInit(): void {
    this.stopPruning = startPeriodicTask(() => this.sessions.prune(new Date(this.clock.now().getTime() - KEEP_ENDED_MS)), {
      firstAfterMs: 60_000,
      everyMs: PRUNE_EVERY_MS,
      clock: this.clock,
      onError: (error) => this.logger.warn({ msg: 'pruning ended console sessions failed; retried next hour', error: String((error as Error)?.message ?? error) }),
    });
  }

  onModuleDestroy(): void {
    this.stopPruning?.();
  }

  /** Signs in with a token secret (any role but sdk, whose tokens live in services, not in people's hands). */
  async open(tokenSecret: string): Promise<OpenedSession> {
    const now = this.clock.now();
    const principal = await this.tokens.authenticate(tokenSecret, now);
    if (principal.role === 'sdk') throw AuthException.forbidden(principal.role, 'the console');
    const sessionEnd = now.getTime() + this.lifetimeMs;
    const expiresAt = new Date(principal.expiresAt === null ? sessionEnd : Math.min(sessionEnd, principal.expiresAt.getTime()));
    const secret = `sys_${randomBytes(32).toString('base64url')}`;
    await this.sessions.insert({ id: randomUUID(), secretHash: hashTokenSecret(secret), tokenId: principal.tokenId, createdAt: now, expiresAt });
    this.logger.log({ msg: 'console session opened', token: principal.name, role: principal.role, expiresAt: expiresAt.toISOString() });
    return { secret, csrfToken: csrfTokenFor(secret), principal, expiresAt };
  }

  /** The principal of a live session, or UNAUTHENTICATED. */
  async principalFor(secret: string): Promise<Principal> {
    const row = await this.sessions.findLive(hashTokenSecret(secret), this.clock.now());
    if (row === null) throw AuthException.unauthenticated('This console session has ended: sign in again.');
    return { tokenId: row.tokenId, name: row.name, role: row.role, expiresAt: row.expiresAt };
  }

  /** The page's view of a live session, or null when it ended (or never was). */
  async find(secret: string): Promise<SessionView | null> {
    const row = await this.sessions.findLive(hashTokenSecret(secret), this.clock.now());
    if (row === null) return null;
    return { name: row.name, role: row.role, csrfToken: csrfTokenFor(secret), expiresAt: row.expiresAt };
  }

  /** Sign-out: the session ends for every instance at once. Idempotent. */
  async end(secret: string): Promise<void> {
    if (await this.sessions.end(hashTokenSecret(secret), this.clock.now())) this.logger.log({ msg: 'console session ended' });
  }
}

/** The CSRF token of a session: a digest of its secret under its own label, so it reveals nothing of the secret. */
export function csrfTokenFor(secret: string): string {
  return createHash('sha256').update('switchyard console csrf\0', 'utf8').update(secret, 'utf8').digest('base64url');
}

/** Whether `sent` is the CSRF token of this session (constant time). */
export function csrfTokenMatches(secret: string, sent: string | undefined): boolean {
  if (sent === undefined) return false;
  const expected = Buffer.from(csrfTokenFor(secret), 'utf8');
  const given = Buffer.from(sent, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
