import { rolledBackSegmentsOf, type SliceRecord } from '../slices/slice-record.js';

/**
 * Whether a change of a slice's configuration may put on NEW a subject who was not: what a freeze
 * window refuses. Conservative: it answers false only when it can prove that every subject on NEW
 * after the change was on NEW before (DESIGN.md's decision, step by step, given the same segments):
 *  - after the change nobody is on NEW (rolled back, archived, or nothing exposes anyone), or
 *  - the slice was ACTIVE and stays so, with the same stickiness attribute, include a subset of the
 *    old one, exclude a superset, the same rules (segments, in order) each at or below its old
 *    percentage, the default percentage at or below the old one (a subject keeps its bucket
 *    position, so a lower percentage only moves subjects to LEGACY), and rolled-back segments a
 *    superset of the old ones (a segment rollback only lowers exposure; resumeSegment raises it).
 * Anything else (resume, resumeSegment, a new include, a dropped exclude, reordered rules...) raises.
 */
export function raisesExposure(current: SliceRecord, next: SliceRecord): boolean {
  if (!exposesAnyone(next)) return false;
  if (current.state !== 'ACTIVE' || next.state !== 'ACTIVE') return true;
  if (next.stickinessAttribute !== current.stickinessAttribute) return true;
  if (next.basisPoints > current.basisPoints) return true;
  const t = current.targeting;
  const n = next.targeting;
  if (!n.include.every((k) => t.include.includes(k))) return true;
  if (!t.exclude.every((k) => n.exclude.includes(k))) return true;
  const rolledBack = rolledBackSegmentsOf(next);
  if (!rolledBackSegmentsOf(current).every((k) => rolledBack.includes(k))) return true;
  if (n.rules.length !== t.rules.length) return true;
  return n.rules.some((rule, i) => {
    const old = t.rules[i]!;
    return rule.basisPoints > old.basisPoints || rule.segments.length !== old.segments.length || rule.segments.some((k, j) => k !== old.segments[j]);
  });
}

/** Whether any subject at all can be on NEW under this configuration. */
function exposesAnyone(r: SliceRecord): boolean {
  if (r.state !== 'ACTIVE') return false;
  return r.basisPoints > 0 || r.targeting.include.length > 0 || r.targeting.rules.some((rule) => rule.basisPoints > 0);
}
