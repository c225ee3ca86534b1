/**
 * A reader for Prometheus' text exposition format (version 0.0.4), strict enough for tests:
 * every sample line is parsed into name, labels and value, label values unescaped, and `# HELP`
 * / `# TYPE` lines kept; anything malformed throws instead of being skipped.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export class Exposition {
  constructor(
    readonly samples: readonly Sample[],
    /** Metric family name -> counter, gauge, histogram, summary, untyped. */
    readonly types: ReadonlyMap<string, string>,
    readonly help: ReadonlyMap<string, string>,
  ) {}

  /** Every sample of this name (a histogram's `_bucket`, `_sum`, `_count` are names of their own). */
  series(name: string): Sample[] {
    return this.samples.filter((s) => s.name === name);
  }

  /** The value of the one sample with exactly these labels (no more, no fewer); undefined when absent. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const wanted = Object.entries(labels);
    const matches = this.series(name).filter((s) => Object.keys(s.labels).length === wanted.length && wanted.every(([k, v]) => s.labels[k] === v));
    if (matches.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} appears ${matches.length} times`);
    return matches[0]?.value;
  }

  /** Like `value`, with an absent series read as 0 (a counter that has not counted yet). */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.value(name, labels) ?? 0;
  }

  /** The distinct values of one label across a metric's samples. */
  labelValues(name: string, label: string): Set<string> {
    return new Set(this.series(name).flatMap((s) => (s.labels[label] === undefined ? [] : [s.labels[label]])));
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1}: ${why}: ${line}`);
    };
    if (line.startsWith('#')) {
      const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (comment === null) continue;
      if (comment[1] === 'TYPE') types.set(comment[2]!, comment[3]!);
      else help.set(comment[2]!, comment[3]!);
      continue;
    }
    const name = METRIC_NAME.exec(line)?.[0] ?? fail('no metric name');
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      rest = rest.slice(1);
      while (!rest.startsWith('}')) {
        const label = LABEL_NAME.exec(rest)?.[0] ?? fail('bad label name');
        rest = rest.slice(label.length);
        if (!rest.startsWith('="')) fail('expected ="');
        rest = rest.slice(2);
        let value = '';
        for (;;) {
          const c = rest[0] ?? fail('unterminated label value');
          rest = rest.slice(1);
          if (c === '"') break;
          if (c === '\\') {
            const e = rest[0] ?? fail('dangling escape');
            rest = rest.slice(1);
            value += e === 'n' ? '\n' : e;
          } else {
            value += c;
          }
        }
        if (label in labels) fail(`label ${label} twice`);
        labels[label] = value;
        if (rest.startsWith(',')) rest = rest.slice(1);
        else if (!rest.startsWith('}')) fail('expected , or }');
      }
      rest = rest.slice(1);
    }
    const fields = rest.trim().split(/\s+/);
    if (fields.length < 1 || fields.length > 2 || !rest.startsWith(' ')) fail('expected a value');
    const raw = fields[0]!;
    // Prometheus parses values with Go's ParseFloat: NaN in any case (prom-client writes `Nan`).
    const nan = raw.toLowerCase() === 'nan';
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : nan ? NaN : Number(raw);
    if (Number.isNaN(value) && !nan) fail('bad value');
    samples.push({ name, labels, value });
  }
  return new Exposition(samples, types, help);
}
