import { Injectable } from '@nestjs/common';
import type { TrafficProtocol } from './traffic-report.js';

/**
 * How the configuration a follower is served relates to Switchyard's decision:
 * - EXACT: the same answer for every subject;
 * - CONSERVATIVE: NEW for some of the subjects Switchyard puts on NEW, never for others;
 * - DISABLED: the slice is active, but the follower gets it disabled (everyone LEGACY) because
 *   nothing finer is exact for it.
 */
export type ServedForm = 'EXACT' | 'CONSERVATIVE' | 'DISABLED';

export interface ServedFormOf {
  readonly form: ServedForm;
  /** Why it is not EXACT, in words; null when it is. */
  readonly reason: string | null;
}

/**
 * Tells the form of a slice served to an Unleash SDK that declares `clientSpec` (its
 * `Unleash-Client-Spec` header; null: none), as of the configuration being served now; null when
 * the slice is not being served. Implemented by the Unleash compatibility module, which knows
 * what it serves to each client-specification level (src/compat/unleash).
 */
export interface UnleashServedForms {
  formOf(sliceKey: string, clientSpec: string | null): ServedFormOf | null;
}

const EXACT: ServedFormOf = { form: 'EXACT', reason: null };

/**
 * Where the traffic read side learns which form each follower is served, without importing the
 * modules that serve it (compat imports traffic, not the reverse): the Unleash compatibility
 * module registers itself at start (`provide`).
 */
@Injectable()
export class ServedForms {
  private unleash: UnleashServedForms | null = null;

  provide(source: UnleashServedForms): void {
    this.unleash = source;
  }

  /**
   * The form a follower is served. Our SDK runs the decision core itself: always EXACT. An
   * Unleash SDK: by the client specification it declared when last served; null when it was never
   * served (`served` false: it only registered or sent metrics) or the slice is not served.
   */
  formOf(protocol: TrafficProtocol, sliceKey: string, served: boolean, clientSpec: string | null): ServedFormOf | null {
    if (protocol === 'SWITCHYARD') return EXACT;
    if (!served || this.unleash === null) return null;
    return this.unleash.formOf(sliceKey, clientSpec);
  }
}
