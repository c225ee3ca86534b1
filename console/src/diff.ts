/** One changed field of a history row: its path (`targeting.rules[0].percent`) and both values, as text. */
export interface FieldChange {
  readonly path: string;
  readonly before: string;
  readonly after: string;
}

/**
 * What changed between a history row's `before` and `after`, field by field (pure). Objects are
 * compared by key, arrays by position; a value absent on one side is shown as "—".
 */
export function diffValues(before: unknown, after: unknown, path = ''): FieldChange[] {
  // A created or deleted object shows as its fields, each from or to nothing.
  if (isRecord(before) && after === undefined) return diffValues(before, {}, path);
  if (before === undefined && isRecord(after)) return diffValues({}, after, path);
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffValues(before[key], after[key], path === '' ? key : `${path}.${key}`));
  }
  if (Array.isArray(before) && Array.isArray(after) && !(before.every(isScalar) && after.every(isScalar))) {
    const length = Math.max(before.length, after.length);
    return Array.from({ length }, (_, i) => diffValues(before[i], after[i], `${path}[${i}]`)).flat();
  }
  const [b, a] = [show(before), show(after)];
  return b === a ? [] : [{ path: path === '' ? '(value)' : path, before: b, after: a }];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): boolean {
  return value === null || typeof value !== 'object';
}

function show(value: unknown): string {
  if (value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
