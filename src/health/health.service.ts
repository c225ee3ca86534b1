import { Injectable } from '@nestjs/common';
import { HealthRepository } from './health.repository.js';

export interface Readiness {
  readonly status: 'ok' | 'unavailable';
  readonly database: 'ok' | 'unreachable';
  readonly migrations: 'applied' | 'pending' | 'unknown';
}

const PROBE_TIMEOUT_MS = 2_000;

@Injectable()
export class HealthService {
  /** Once every migration is applied it stays so for this process: no need to ask again. */
  private migrationsApplied = false;

  constructor(private readonly database: HealthRepository) {}

  async readiness(): Promise<Readiness> {
    try {
      await withTimeout(this.database.ping(), PROBE_TIMEOUT_MS);
    } catch {
      return { status: 'unavailable', database: 'unreachable', migrations: this.migrationsApplied ? 'applied' : 'unknown' };
    }
    if (!this.migrationsApplied) {
      try {
        this.migrationsApplied = !(await withTimeout(this.database.hasPendingMigrations(), PROBE_TIMEOUT_MS));
      } catch {
        return { status: 'unavailable', database: 'ok', migrations: 'unknown' };
      }
    }
    return this.migrationsApplied
      ? { status: 'ok', database: 'ok', migrations: 'applied' }
      : { status: 'unavailable', database: 'ok', migrations: 'pending' };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
