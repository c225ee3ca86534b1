import { formatPercent, keyValues } from '../output.js';

/** The slice as the CLI reads it: what `status <slice>` and every change print (and `--json` returns). */
export const SLICE_FIELDS = `key description owner tags stickinessAttribute percent basisPoints state version createdAt updatedAt
  targeting { include exclude rules { segments percent basisPoints } }`;

export interface SliceView {
  key: string;
  description: string;
  owner: string;
  tags: string[];
  stickinessAttribute: string;
  percent: number;
  basisPoints: number;
  state: 'ACTIVE' | 'ROLLED_BACK' | 'ARCHIVED';
  version: number;
  createdAt: string;
  updatedAt: string;
  targeting: { include: string[]; exclude: string[]; rules: { segments: string[]; percent: number; basisPoints: number }[] };
}

/**
 * The observation settings (docs/outcomes.md): selected only by the commands that need them
 * (`observe`, and `status <slice>` when the service has them), so that the others keep working
 * against a service older than them.
 */
export const OBSERVATION_FIELDS = 'watched shadowPercent mismatchThresholdPercent';

export interface ObservationView {
  watched: boolean;
  shadowPercent: number;
  mismatchThresholdPercent: number;
}

/** `watched, shadow 5% of compare calls, mismatch threshold 0.1%`. */
export function renderObservation(o: ObservationView): string {
  return `${o.watched ? 'watched' : 'not watched'}, shadow ${formatPercent(o.shadowPercent)} of compare calls, mismatch threshold ${formatPercent(o.mismatchThresholdPercent)}`;
}

/** The targeting in decision order: what `status <slice>` and `targeting set` print. */
export function renderTargeting(s: Pick<SliceView, 'percent' | 'targeting'>): string {
  const t = s.targeting;
  const lines: [string, string][] = [
    ['exclude', t.exclude.length ? `${t.exclude.join(', ')} (forced to LEGACY; always wins)` : '-'],
    ['include', t.include.length ? `${t.include.join(', ')} (forced to NEW)` : '-'],
    ...t.rules.map((r, i): [string, string] => [`rule ${i + 1}`, `${r.segments.join(' + ')} -> ${formatPercent(r.percent)}`]),
    ['otherwise', formatPercent(s.percent)],
  ];
  return `targeting\n${keyValues(lines)}`;
}
