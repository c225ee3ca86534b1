import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { HealthRepository } from './health.repository.js';

export interface Readiness {
  readonly status: 'ok' | 'unavailable';
  readonly database: 'ok' | 'unreachable';
  readonly migrations: 'applied' | 'pending' | 'unknown';
}

@Injectable()
export class HealthService {
  /** Once every migration is applied it stays so for this process: no need to ask again. */
  private migrationsApplied = false;
  /**
   * How long readiness waits for the database: as long as a request waits for a connection
   * (SWITCHYARD_DB_CONNECT_TIMEOUT_MS). A database that does not answer within it is reported
   * unreachable then, while the ping itself is left to end by its own timeouts.
   */
  private readonly probeTimeoutMs: number;

  constructor(
    private readonly database: HealthRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.probeTimeoutMs = config.databaseConnectTimeoutMs;
  }

  async readiness(): Promise<Readiness> {
    try {
      await withTimeout(this.database.ping(), this.probeTimeoutMs);
    } catch {
      return { status: 'unavailable', database: 'unreachable', migrations: this.migrationsApplied ? 'applied' : 'unknown' };
    }
    if (!this.migrationsApplied) {
      try {
        this.migrationsApplied = !(await withTimeout(this.database.hasPendingMigrations(), this.probeTimeoutMs));
      } catch {
        return { status: 'unavailable', database: 'ok', migrations: 'unknown' };
      }
    }
    return this.migrationsApplied ? { status: 'ok', database: 'ok', migrations: 'applied' } : { status: 'unavailable', database: 'ok', migrations: 'pending' };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
