/**
 * Bounds how many distinct SDK instances one app and one token can make this service instance
 * record per window, so that random instance ids (or app names) cannot grow `sdk_instances`,
 * `traffic_followers` and the buffer without bound: before this, 20 s of registrations with random
 * ids wrote 42,608 rows, bounded only by the 7-day retention.
 *
 * Fixed windows (SWITCHYARD_TRAFFIC_INSTANCE_WINDOW_MINUTES, aligned to the clock): an instance
 * heard in the window is admitted again for the rest of it whatever the limits; a new one is
 * admitted while its app and its token are under their caps. At the next window everything
 * starts again, so a fleet that was refused gets in then; a flood costs at most the caps per
 * window. Per service instance: behind a load balancer each instance admits its own share.
 *
 * Pure: no I/O, no timers; the caller passes its clock's `now`. Memory is one entry per admitted
 * instance, at most `maxTracked`.
 */

export interface AdmissionLimits {
  readonly maxInstancesPerApp: number;
  readonly maxInstancesPerToken: number;
  readonly windowMs: number;
  /** All tokens together: bounds this structure's memory (about 150 bytes an entry). */
  readonly maxTracked: number;
}

/** What identifies an instance (as in `sdk_instances`). */
export interface InstanceIdentity {
  readonly protocol: string;
  readonly appName: string;
  readonly instanceId: string;
}

export const MAX_TRACKED_INSTANCES = 200_000;

const keyOf = (i: InstanceIdentity): string => JSON.stringify([i.protocol, i.appName, i.instanceId]);

export class InstanceAdmission {
  private windowStart = Number.NaN;
  private admitted = new Set<string>();
  private perApp = new Map<string, number>();
  private perToken = new Map<string, number>();

  constructor(private readonly limits: AdmissionLimits) {}

  /** Instances admitted in the current window (as of the last call). */
  get size(): number {
    return this.admitted.size;
  }

  /** Whether `instance`, reported under `token`, may be recorded now. Changes nothing but the window. */
  admits(instance: InstanceIdentity, token: string, now: number): boolean {
    this.roll(now);
    if (this.admitted.has(keyOf(instance))) return true;
    return (
      this.admitted.size < this.limits.maxTracked &&
      (this.perApp.get(instance.appName) ?? 0) < this.limits.maxInstancesPerApp &&
      (this.perToken.get(token) ?? 0) < this.limits.maxInstancesPerToken
    );
  }

  /** Records `instance` as heard in this window (call after `admits` said yes and it was taken). */
  admit(instance: InstanceIdentity, token: string, now: number): void {
    this.roll(now);
    const key = keyOf(instance);
    if (this.admitted.has(key)) return;
    this.admitted.add(key);
    this.perApp.set(instance.appName, (this.perApp.get(instance.appName) ?? 0) + 1);
    this.perToken.set(token, (this.perToken.get(token) ?? 0) + 1);
  }

  private roll(now: number): void {
    const start = Math.floor(now / this.limits.windowMs) * this.limits.windowMs;
    if (start === this.windowStart) return;
    this.windowStart = start;
    this.admitted = new Set();
    this.perApp = new Map();
    this.perToken = new Map();
  }
}
