/**
 * Collects the keys asked for while a GraphQL request resolves, and loads them in one call.
 *
 * `slices(first: 500) { nodes { traffic { lastHour { newShare } } followers { upToDate } } }`
 * would otherwise run a query per slice and field. Loads are gathered until the event loop has
 * run every pending callback (setImmediate: Nest's field resolution takes several promise hops
 * per node, so a microtask-based batch would split), then one batch call answers them all. Each
 * key is loaded once per loader; a loader lives as long as its request.
 */
export class BatchLoader<V> {
  private readonly results = new Map<string, Promise<V>>();
  private pending: { key: string; resolve: (value: V) => void; reject: (error: unknown) => void }[] = [];

  constructor(
    /** Answers some keys; a key missing from the map gets `missing`. */
    private readonly batch: (keys: string[]) => Promise<ReadonlyMap<string, V>>,
    private readonly missing: V,
  ) {}

  load(key: string): Promise<V> {
    const known = this.results.get(key);
    if (known !== undefined) return known;
    const result = new Promise<V>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => void this.dispatch());
      this.pending.push({ key, resolve, reject });
    });
    this.results.set(key, result);
    return result;
  }

  private async dispatch(): Promise<void> {
    const waiting = this.pending;
    this.pending = [];
    try {
      const values = await this.batch(waiting.map((w) => w.key));
      for (const w of waiting) w.resolve(values.get(w.key) ?? this.missing);
    } catch (error) {
      for (const w of waiting) w.reject(error);
    }
  }
}
