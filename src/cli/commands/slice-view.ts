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
