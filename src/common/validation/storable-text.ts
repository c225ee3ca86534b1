/**
 * Text that PostgreSQL cannot store exactly, found before anything else runs.
 *
 * Two kinds of JavaScript string do not survive a round trip through a UTF-8 PostgreSQL column:
 *  - NUL (U+0000): refused by `text` ("invalid byte sequence") and by `jsonb` ("unsupported
 *    Unicode escape sequence"), so the request used to fail with INTERNAL_SERVER_ERROR;
 *  - an unpaired UTF-16 surrogate (U+D800..U+DFFF alone, as left by a client that cut a string
 *    between the two halves of an emoji): the driver encodes it as U+FFFD, so what is stored is not
 *    what was sent, and a history row's hash, computed over what was sent, no longer matches the
 *    row read back: the chain reads as broken for ever.
 * Every other string (any plane, combining marks, bidirectional controls, non-characters, other
 * control characters) is valid Unicode that PostgreSQL stores and hands back unchanged, so the
 * hash over what is sent is the hash over what is stored. Fields that want a narrower alphabet
 * (keys, idempotency keys) say so in their own validation.
 *
 * Pure: used by the GraphQL plugin (arguments and variables of an operation) and by the HTTP body
 * check (REST JSON bodies), the two doors through which text enters the service.
 */

/** One string (or object key) that cannot be stored exactly, with its path, e.g. `constraints[0].values[3]`. */
export interface UnstorableText {
  readonly field: string;
  readonly message: string;
}

/** Enough to point at the problems; a document with 10,000 bad strings gets a readable error. */
const MAX_FINDINGS = 10;

/** Why `text` cannot be stored exactly, or null when it can. */
export function unstorableReason(text: string): string | null {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) return `contains NUL (U+0000) at index ${nul}, which PostgreSQL cannot store`;
  if (!text.isWellFormed()) {
    const at = unpairedSurrogateIndex(text);
    const unit = text.charCodeAt(at).toString(16).toUpperCase();
    return `contains an unpaired UTF-16 surrogate (U+${unit}) at index ${at}: not Unicode text, it cannot be stored exactly`;
  }
  return null;
}

function unpairedSurrogateIndex(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return i;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return i;
    }
  }
  return -1;
}

/** `a.b`, `a[3]`, or `a["odd key"]` for a key that is not a plain name. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return parent === '' ? key : `${parent}.${key}`;
  // JSON.stringify escapes NUL and lone surrogates, so the path itself is always printable.
  return `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Collects what cannot be stored in a JSON value (as parsed from a request): every string and
 * every object key, at any depth. Iterative, so a deeply nested document cannot overflow the
 * stack; linear in the value's size. Stops after MAX_FINDINGS.
 */
export function findUnstorableText(value: unknown, path: string, into: UnstorableText[] = []): UnstorableText[] {
  const stack: { value: unknown; path: string }[] = [{ value, path }];
  while (stack.length > 0 && into.length < MAX_FINDINGS) {
    const { value: v, path: p } = stack.pop()!;
    if (typeof v === 'string') {
      const reason = unstorableReason(v);
      if (reason !== null) into.push({ field: p, message: reason });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: childPath(p, i) });
    } else if (typeof v === 'object' && v !== null) {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        const keyPath = childPath(p, key);
        const reason = unstorableReason(key);
        if (reason !== null) {
          into.push({ field: keyPath, message: `key ${reason}` });
          if (into.length >= MAX_FINDINGS) break;
        }
        stack.push({ value: (v as Record<string, unknown>)[key], path: keyPath });
      }
    }
  }
  return into;
}
