/**
 * MurmurHash3 x86_32 over the UTF-8 bytes of a JavaScript string, encoded on the fly.
 *
 * Why not `murmurhash3js` (what the Unleash Node SDK uses): it hashes `charCodeAt(i) & 0xff`, so it
 * agrees with the Rust, Java and Go SDKs only for ASCII. We hash real UTF-8 (DESIGN.md, step 6).
 * Lone surrogates become U+FFFD (EF BF BD), as `TextEncoder` and Go do (Java's `getBytes` writes
 * `?` instead; Rust strings cannot hold them): ids are expected to be well-formed anyway.
 *
 * The hot path hashes `sliceKey + ":" + id` for every decision. Instead of concatenating, the slice
 * prepares the state after `sliceKey + ":"` once ({@link prepareHashPrefix}) and each decision
 * continues over the id only ({@link hashWithPrefix}): no string, array or object is allocated.
 *
 * If you change anything here, every subject may change bucket: the decision vectors
 * (test/fixtures/decision-vectors.json) and the cross-SDK oracles in murmur3.spec.ts must fail.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * The MurmurHash3 state after some leading bytes: the running hash over the complete 4-byte blocks,
 * plus the 0–3 bytes still waiting to fill a block.
 */
export interface HashPrefix {
  /** Running hash `h1` after the complete blocks (signed 32-bit). */
  readonly h1: number;
  /** Pending bytes, little-endian in the low `tailLength * 8` bits. */
  readonly tail: number;
  /** How many bytes are pending: 0..3. */
  readonly tailLength: number;
  /** UTF-8 byte length of the whole prefix (blocks and pending bytes). */
  readonly byteLength: number;
}

/** Mixes one 4-byte block `k1` into `h1` (the body step of MurmurHash3 x86_32). */
function mixBlock(h1: number, k1: number): number {
  k1 = Math.imul(k1, C1);
  k1 = (k1 << 15) | (k1 >>> 17);
  k1 = Math.imul(k1, C2);
  h1 ^= k1;
  h1 = (h1 << 13) | (h1 >>> 19);
  return (Math.imul(h1, 5) + 0xe6546b64) | 0;
}

/** Mixes the 1–3 trailing bytes (if any), the length, and the final avalanche. Unsigned result. */
/**
 * The finalized hash as a SIGNED 32-bit integer. Internal on purpose: V8 keeps an int32 as a
 * small integer, while a uint32 of 2^31 or more returned from a call it does not inline is boxed
 * on the heap: on the decide path that was 8 bytes per call for half the subjects.
 */
function finishInt32(h1: number, tail: number, tailLength: number, byteLength: number): number {
  if (tailLength > 0) {
    let k1 = Math.imul(tail, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
  }
  h1 ^= byteLength;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 | 0;
}

function finish(h1: number, tail: number, tailLength: number, byteLength: number): number {
  return finishInt32(h1, tail, tailLength, byteLength) >>> 0;
}

/** A hash state being written: {@link absorb} leaves its result in one of these. */
interface MutableHashPrefix {
  h1: number;
  tail: number;
  tailLength: number;
  byteLength: number;
}

/*
 * Scratch states (single-threaded, non-reentrant). Why `absorb` reads and writes objects instead of
 * taking and returning numbers: it is too large to be inlined, and a number crossing a call that is
 * not inlined is boxed when it does not fit V8's 31-bit small integers, which would be a heap
 * allocation per decision. Numbers loaded from and stored into object fields are not.
 */
const start: MutableHashPrefix = { h1: 0, tail: 0, tailLength: 0, byteLength: 0 };
const scratch: MutableHashPrefix = { h1: 0, tail: 0, tailLength: 0, byteLength: 0 };

/**
 * Continues the hash from state `from` over the UTF-8 bytes of `text`, encoded code point by code
 * point (no intermediate byte array), and stores the resulting state in `out`.
 *
 * Ids are ASCII almost always, so four ASCII characters are read at once and mixed as one block
 * (shifted by the bytes already pending, so that a slice key of any length keeps the fast path);
 * anything else goes one code point at a time. `charCodeAt` is most of the cost (V8 checks the
 * string's representation on every call), so the fast path does nothing per character beyond it.
 */
function absorb(from: HashPrefix, text: string, out: MutableHashPrefix): void {
  let h1 = from.h1;
  let tail = from.tail;
  let tailLength = from.tailLength;
  let byteLength = from.byteLength;
  const n = text.length;
  let i = 0;
  for (;;) {
    // Whole blocks of four ASCII characters: the pending bytes, then the first 4 - tailLength of
    // the four; the last tailLength of them are pending afterwards (tailLength is unchanged).
    const shift = tailLength << 3;
    while (i + 4 <= n) {
      const c0 = text.charCodeAt(i);
      const c1 = text.charCodeAt(i + 1);
      const c2 = text.charCodeAt(i + 2);
      const c3 = text.charCodeAt(i + 3);
      if ((c0 | c1 | c2 | c3) >= 0x80) break;
      const word = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
      h1 = mixBlock(h1, tail | (word << shift));
      tail = shift === 0 ? 0 : word >>> (32 - shift);
      byteLength += 4;
      i += 4;
    }
    if (i >= n) break;

    // One code point: its UTF-8 bytes, first byte in the low 8 bits, and how many there are.
    let c = text.charCodeAt(i++);
    let bytes: number;
    let count: number;
    if (c < 0x80) {
      bytes = c;
      count = 1;
    } else if (c < 0x800) {
      bytes = 0xc0 | (c >>> 6) | ((0x80 | (c & 0x3f)) << 8);
      count = 2;
    } else if (c < 0xd800 || c > 0xdfff) {
      bytes = 0xe0 | (c >>> 12) | ((0x80 | ((c >>> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
      count = 3;
    } else {
      const next = i < n ? text.charCodeAt(i) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        // A well-formed surrogate pair: one supplementary code point, four bytes.
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        bytes = 0xf0 | (c >>> 18) | ((0x80 | ((c >>> 12) & 0x3f)) << 8) | ((0x80 | ((c >>> 6) & 0x3f)) << 16) | ((0x80 | (c & 0x3f)) << 24);
        count = 4;
      } else {
        // A lone surrogate has no UTF-8 form; TextEncoder (and Go) write U+FFFD (EF BF BD) instead.
        bytes = 0xef | (0xbf << 8) | (0xbd << 16);
        count = 3;
      }
    }
    for (let j = 0; j < count; j++) {
      tail |= (bytes & 0xff) << (tailLength << 3);
      bytes >>>= 8;
      tailLength++;
      byteLength++;
      if (tailLength === 4) {
        h1 = mixBlock(h1, tail);
        tail = 0;
        tailLength = 0;
      }
    }
  }
  out.h1 = h1;
  out.tail = tail;
  out.tailLength = tailLength;
  out.byteLength = byteLength;
}

/** The empty state for `seed`, in the shared `start` object. */
function seeded(seed: number): HashPrefix {
  start.h1 = seed | 0;
  start.tail = 0;
  start.tailLength = 0;
  start.byteLength = 0;
  return start;
}

/**
 * Prepares the hash state after `prefix` (its UTF-8 bytes), to be continued by
 * {@link hashWithPrefix}. Call once per slice, with `sliceKey + ":"`.
 *
 * @param prefix - the leading part of every string that will be hashed with this state.
 * @param seed - MurmurHash3 seed; Switchyard (like Unleash's rollout) uses 0.
 */
export function prepareHashPrefix(prefix: string, seed = 0): HashPrefix {
  const state: MutableHashPrefix = { h1: 0, tail: 0, tailLength: 0, byteLength: 0 };
  absorb(seeded(seed), prefix, state);
  return state;
}

/**
 * MurmurHash3 x86_32 of `prefix + value` (UTF-8), hashing only `value`'s bytes: equal to
 * `murmur3(prefixText + value, seed)` for the text and seed `prefix` was prepared from.
 * Allocates nothing (the evaluator reads it through `positionWithPrefix`, whose 0..9999 result
 * never needs boxing).
 *
 * @returns the hash as an unsigned 32-bit integer.
 */
export function hashWithPrefix(prefix: HashPrefix, value: string): number {
  return hashWithPrefixInt32(prefix, value) >>> 0;
}

/**
 * {@link hashWithPrefix} as a signed 32-bit integer (`>>> 0` gives the unsigned hash), for the
 * evaluator's hot path: see finishInt32 for why. Not part of the public surface.
 */
export function hashWithPrefixInt32(prefix: HashPrefix, value: string): number {
  // The common case in one function small enough for V8 to inline its helpers: an ASCII id,
  // continued from the prefix, its last 0-3 characters read straight into the final block. No
  // scratch state is written and `absorb` (too large to inline) is not called: about 10 ns less a
  // hash on the benchmark's ids. Any other character: the general path, from the prefix again.
  let h1 = prefix.h1;
  let tail = prefix.tail;
  let tailLength = prefix.tailLength;
  const shift = tailLength << 3;
  const n = value.length;
  let i = 0;
  while (i + 4 <= n) {
    const c0 = value.charCodeAt(i);
    const c1 = value.charCodeAt(i + 1);
    const c2 = value.charCodeAt(i + 2);
    const c3 = value.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) return hashGeneralInt32(prefix, value);
    const word = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    h1 = mixBlock(h1, tail | (word << shift));
    tail = shift === 0 ? 0 : word >>> (32 - shift);
    i += 4;
  }
  for (; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80) return hashGeneralInt32(prefix, value);
    tail |= c << (tailLength << 3);
    if (++tailLength === 4) {
      h1 = mixBlock(h1, tail);
      tail = 0;
      tailLength = 0;
    }
  }
  return finishInt32(h1, tail, tailLength, prefix.byteLength + n);
}

/** {@link hashWithPrefixInt32} for any string (code point by code point past ASCII). */
function hashGeneralInt32(prefix: HashPrefix, value: string): number {
  absorb(prefix, value, scratch);
  return finishInt32(scratch.h1, scratch.tail, scratch.tailLength, scratch.byteLength);
}

/**
 * MurmurHash3 x86_32 of the UTF-8 bytes of `text`.
 *
 * @param seed - defaults to 0, the seed of every rollout decision.
 * @returns the hash as an unsigned 32-bit integer.
 */
export function murmur3(text: string, seed = 0): number {
  absorb(seeded(seed), text, scratch);
  return finish(scratch.h1, scratch.tail, scratch.tailLength, scratch.byteLength);
}
