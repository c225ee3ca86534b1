import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { InvalidInputException, SwitchyardException } from '../common/errors/switchyard.exception.js';
import { startPeriodicTask } from '../common/scheduling/periodic-task.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { ChangeService, type ResultCodec } from '../changes/change.service.js';
import { HistoryAction } from '../history/history-action.js';
import type { Actor } from '../access/auth.decorators.js';
import { AuthException } from '../access/auth.exception.js';
import { ApiTokenEntity } from './api-token.entity.js';
import { ApiTokensRepository } from './api-tokens.repository.js';
import type { CreateTokenArgs, RevokeTokenArgs } from './dto/token.args.js';
import { PrincipalCache } from './principal-cache.js';
import type { Principal, Role } from '../access/roles.js';
import { hashTokenSecret, newTokenSecret } from './token-secret.js';
import { TokenWatch } from './token-watch.js';

/** A token as history and idempotency store it: never the secret, never its hash. */
interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
}

export interface CreatedToken {
  readonly token: ApiTokenEntity;
  /** Null when answering an idempotent retry: the secret exists only in the first response. */
  readonly secret: string | null;
}

const BEARER = /^Bearer\s+(\S{1,512})\s*$/i;
/** The token alone, without a scheme: how official Unleash SDKs send it. */
const BARE_TOKEN = /^\s*(\S{1,512})\s*$/;

/** The secret of an `Authorization` header (`Bearer <token>`, or the bare token when allowed), or null. */
function secretOf(header: string | undefined, options: { readonly allowBareToken?: boolean }): string | null {
  const match = BEARER.exec(header ?? '') ?? (options.allowBareToken === true ? BARE_TOKEN.exec(header ?? '') : null);
  return match === null ? null : match[1]!;
}

const CREATED_CODEC: ResultCodec<CreatedToken> = {
  encode: (r) => toRecord(r.token),
  decode: (json) => ({ token: fromRecord(json as TokenRecord), secret: null }),
};
const TOKEN_CODEC: ResultCodec<ApiTokenEntity> = { encode: toRecord, decode: (json) => fromRecord(json as TokenRecord) };

/** How often the tokens of open streams are re-verified when the token cache is off (SWITCHYARD_TOKEN_CACHE_MS=0). */
const UNCACHED_REVERIFY_MS = 1_000;
/** setTimeout's longest delay: a later expiry is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Tokens: who is calling, and the changes to tokens themselves.
 *
 * A token verified once is answered from memory from then on (PrincipalCache), on every path:
 * SDK and Unleash delivery never wait on the database for a token seen before, not even a frozen
 * one. What keeps that true is the background re-verification: every SWITCHYARD_TOKEN_CACHE_MS,
 * one query asks about every token cached or watched, and a token revoked (through any instance),
 * expired or gone is withdrawn: forgotten, and the streams opened with it are told (TokenWatch),
 * which end them. A revocation through this instance withdraws at once; an expiry at the expiry
 * time (a timer).
 */
@Injectable()
export class ApiTokensService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ApiTokensService.name);
  private readonly cache: PrincipalCache;
  private readonly watched = new TokenWatch();
  private readonly reverifyEveryMs: number;
  private stopReverifying: (() => void) | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  /** The expiry the timer is set for (epoch ms), so that a new watch re-arms it only when sooner. */
  private expiryTimerAt: number | null = null;
  private reverifyFailing = false;

  constructor(
    private readonly tokens: ApiTokensRepository,
    private readonly changes: ChangeService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.cache = new PrincipalCache(config.tokenCacheMs > 0);
    this.reverifyEveryMs = config.tokenCacheMs > 0 ? config.tokenCacheMs : UNCACHED_REVERIFY_MS;
  }

  onModuleInit(): void {
    this.stopReverifying = startPeriodicTask(() => this.reverify(), {
      firstAfterMs: this.reverifyEveryMs,
      everyMs: this.reverifyEveryMs,
      onError: (error) => {
        // Logged once per outage: tokens seen before keep working meanwhile, as they were.
        if (!this.reverifyFailing)
          this.logger.warn({ msg: 'token re-verification failed; known tokens stay trusted until it works again', error: String((error as Error)?.message ?? error) });
        this.reverifyFailing = true;
      },
    });
  }

  onModuleDestroy(): void {
    this.stopReverifying?.();
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
  }

  /**
   * The caller behind an `Authorization: Bearer <token>` header, or UNAUTHENTICATED. With
   * `allowBareToken`, `Authorization: <token>` too: only the Unleash client API asks for that
   * (official Unleash SDKs send the token without a scheme); everywhere else a scheme is required.
   */
  authenticateHeader(header: string | undefined, options: { readonly allowBareToken?: boolean } = {}): Promise<Principal> {
    const secret = secretOf(header, options);
    if (secret === null) return Promise.reject(AuthException.unauthenticated());
    return this.authenticate(secret);
  }

  /**
   * The caller behind the header when its token is in the cache of verified tokens (and has not
   * expired), without a promise; null for anything else (no or a malformed header, a token not
   * seen before, the cache off), which `authenticateHeader` then answers. What the delivery fast
   * path asks first: an SDK's poll with a token seen before is served in the same turn.
   */
  knownPrincipal(header: string | undefined, options: { readonly allowBareToken?: boolean } = {}): Principal | null {
    const secret = secretOf(header, options);
    return secret === null ? null : this.cache.lookup(hashTokenSecret(secret), Date.now());
  }

  /**
   * The caller behind a bearer secret, or UNAUTHENTICATED. A token verified before is answered
   * from memory (unless it has expired): no query, whatever state the database is in. Only a
   * token not seen before (or with the cache off) is looked up.
   */
  async authenticate(secret: string, now: Date = new Date()): Promise<Principal> {
    const tokenHash = hashTokenSecret(secret);
    const cached = this.cache.lookup(tokenHash, now.getTime());
    if (cached !== null) return cached;
    const token = await this.tokens.findByHash(tokenHash);
    if (token === null) throw AuthException.unauthenticated('Unknown token.');
    if (!isValid(token, now.getTime())) {
      throw AuthException.unauthenticated(token.revokedAt !== null ? 'This token was revoked.' : 'This token has expired.');
    }
    const principal: Principal = { tokenId: token.id, name: token.name, role: token.role, expiresAt: token.expiresAt };
    this.cache.remember(tokenHash, principal);
    return principal;
  }

  /**
   * Calls `onWithdrawn` once when the principal's token is revoked (through this instance: at
   * once; through another: within SWITCHYARD_TOKEN_CACHE_MS) or expires (at its expiry time).
   * For what outlives the request that authenticated it: an open stream. Returns the function
   * that stops watching.
   */
  watch(principal: Principal, onWithdrawn: () => void): () => void {
    const unwatch = this.watched.watch(principal, onWithdrawn);
    const expiresAt = principal.expiresAt?.getTime() ?? null;
    if (expiresAt !== null && (this.expiryTimerAt === null || expiresAt < this.expiryTimerAt)) this.armExpiryTimer();
    return unwatch;
  }

  /**
   * Asks the database about every token cached or watched, in one query, and withdraws those no
   * longer valid (revoked, expired, gone). Runs every SWITCHYARD_TOKEN_CACHE_MS.
   */
  private async reverify(): Promise<void> {
    const ids = new Set([...this.cache.tokenIds(), ...this.watched.tokenIds()]);
    if (ids.size === 0) return;
    const rows = await this.tokens.validity([...ids]);
    if (this.reverifyFailing) this.logger.log({ msg: 'token re-verification works again' });
    this.reverifyFailing = false;
    const now = Date.now();
    const valid = new Set(rows.filter((row) => isValid(row, now)).map((row) => row.id));
    for (const id of ids) if (!valid.has(id)) this.withdraw(id, 're-verification');
  }

  list(): Promise<ApiTokenEntity[]> {
    return this.tokens.list();
  }

  create(args: CreateTokenArgs, actor: Actor): Promise<CreatedToken> {
    return this.changes.run({
      operation: 'createToken',
      args,
      actor,
      codec: CREATED_CODEC,
      execute: async (tx, now) => {
        if (args.expiresAt && args.expiresAt <= now) throw InvalidInputException.field('expiresAt', 'must be in the future');
        const created = await this.insertToken(tx, args.name, args.role, actor.name, args.expiresAt ?? null, now);
        return {
          result: created,
          history: [{ action: HistoryAction.TOKEN_CREATED, before: null, after: toRecord(created.token) }],
        };
      },
    });
  }

  async revoke(args: RevokeTokenArgs, actor: Actor): Promise<ApiTokenEntity> {
    const revoked = await this.changes.run({
      operation: 'revokeToken',
      args,
      actor,
      codec: TOKEN_CODEC,
      execute: async (tx, now) => {
        const current = await this.tokens.findById(args.id, tx);
        if (current === null) throw new SwitchyardException('TOKEN_NOT_FOUND', `No token with id ${args.id}.`, { id: args.id });
        if (current.revokedAt !== null) {
          throw new SwitchyardException('TOKEN_ALREADY_REVOKED', `Token "${current.name}" is already revoked.`, { id: args.id });
        }
        await this.tokens.revoke(tx, current.id, now);
        const next = Object.assign(new ApiTokenEntity(), current, { revokedAt: now });
        return { result: next, history: [{ action: HistoryAction.TOKEN_REVOKED, before: toRecord(current), after: toRecord(next) }] };
      },
    });
    // This instance refuses the token from the next request on and ends its streams now; others
    // within tokenCacheMs (their re-verification).
    this.withdraw(revoked.id, 'revoked');
    return revoked;
  }

  /**
   * First start: with no token at all, install the bootstrap admin token, from
   * SWITCHYARD_ADMIN_TOKEN when set, else a fresh one that the caller prints once.
   * Returns null when tokens already exist.
   */
  bootstrapAdmin(configured: string | null): Promise<{ secret: string; generated: boolean } | null> {
    const actor: Actor = { name: 'system', requestId: null };
    return this.changes.run({
      operation: 'bootstrapAdmin',
      args: { reason: 'first start: bootstrap admin token' },
      actor,
      codec: { encode: (r) => r, decode: (j) => j as { secret: string; generated: boolean } | null },
      execute: async (tx, now) => {
        if ((await this.tokens.count(tx)) > 0) return { result: null, history: [] };
        const secret = configured ?? newTokenSecret();
        const created = await this.insertToken(tx, 'bootstrap-admin', 'admin', 'system', null, now, secret);
        return {
          result: { secret, generated: configured === null },
          history: [{ action: HistoryAction.TOKEN_CREATED, before: null, after: toRecord(created.token) }],
        };
      },
    });
  }

  /**
   * What a secret is to this service, without authenticating with it: the name of the token it
   * belongs to and whether that token still works, or null when it is no token here. For the
   * start-up log about SWITCHYARD_ADMIN_TOKEN (AuthModule); never exposed through the API.
   */
  async describeSecret(secret: string, now: Date = new Date()): Promise<{ name: string; valid: boolean } | null> {
    const token = await this.tokens.findByHash(hashTokenSecret(secret));
    return token === null ? null : { name: token.name, valid: isValid(token, now.getTime()) };
  }

  /** Forgets the token and tells whoever watches it (its streams end). */
  private withdraw(tokenId: string, why: 'revoked' | 're-verification' | 'expired'): void {
    this.cache.forgetToken(tokenId);
    const told = this.watched.withdraw(tokenId, (error) => this.logger.error({ msg: 'a token watcher failed', tokenId, error: String(error) }));
    if (told > 0) this.logger.log({ msg: 'token no longer valid: its streams are ended', tokenId, why, streams: told });
  }

  /** Sets the timer for the earliest expiry among the tokens watched (in steps, for one far off). */
  private armExpiryTimer(): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    const next = this.watched.nextExpiry();
    this.expiryTimerAt = next;
    if (next === null) return;
    this.expiryTimer = setTimeout(
      () => {
        this.expiryTimer = null;
        for (const id of this.watched.expired(Date.now())) this.withdraw(id, 'expired');
        this.armExpiryTimer();
      },
      Math.min(Math.max(next - Date.now(), 0), MAX_TIMER_MS),
    );
    this.expiryTimer.unref();
  }

  private async insertToken(
    tx: EntityManager,
    name: string,
    role: Role,
    createdBy: string,
    expiresAt: Date | null,
    now: Date,
    secret: string = newTokenSecret(),
  ): Promise<CreatedToken> {
    if ((await this.tokens.findByName(name, tx)) !== null) {
      throw new SwitchyardException('TOKEN_NAME_TAKEN', `A token named "${name}" exists; names are unique (they are history's actors).`, { name });
    }
    const token = Object.assign(new ApiTokenEntity(), {
      id: randomUUID(),
      name,
      role,
      tokenHash: hashTokenSecret(secret),
      createdBy,
      createdAt: now,
      expiresAt,
      revokedAt: null,
    });
    await this.tokens.insert(tx, token);
    return { token, secret };
  }
}

function isValid(token: Pick<ApiTokenEntity, 'expiresAt' | 'revokedAt'>, now: number): boolean {
  return token.revokedAt === null && (token.expiresAt === null || token.expiresAt.getTime() > now);
}

function toRecord(t: ApiTokenEntity): TokenRecord {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    createdBy: t.createdBy,
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}

function fromRecord(r: TokenRecord): ApiTokenEntity {
  return Object.assign(new ApiTokenEntity(), {
    ...r,
    tokenHash: '',
    createdAt: new Date(r.createdAt),
    expiresAt: r.expiresAt === null ? null : new Date(r.expiresAt),
    revokedAt: r.revokedAt === null ? null : new Date(r.revokedAt),
  });
}
