import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AuthException } from '../access/auth.exception.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';

const BEARER = /^Bearer\s+(\S{1,512})\s*$/i;

/**
 * GET /metrics is open unless METRICS_TOKEN is set; then it takes exactly that token as a bearer
 * token (API tokens are not accepted: a scraper needs no role, and an API token in a Prometheus
 * config would be one more secret that can change the configuration).
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  /** Digests compared in constant time, whatever the length of what was sent. */
  private readonly expected: Buffer | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.metricsToken === null ? null : digest(config.metricsToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expected === null) return true;
    const match = BEARER.exec(context.switchToHttp().getRequest<Request>().header('authorization') ?? '');
    if (match === null || !timingSafeEqual(digest(match[1]!), this.expected)) {
      throw AuthException.unauthenticated('Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.');
    }
    return true;
  }
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
