import fc from 'fast-check';
import murmurhash3js from 'murmurhash3js';
import { hashWithPrefix, murmur3, prepareHashPrefix } from './murmur3.js';

/**
 * Independent reference: MurmurHash3_x86_32 written straight from the algorithm over a byte array
 * (no streaming, no UTF-8 encoding of its own), fed with Node's UTF-8 encoder.
 */
function referenceHash(bytes: Uint8Array, seed = 0): number {
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
  const mul = (a: number, b: number) => Number((BigInt(a) * BigInt(b)) & 0xffffffffn); // not Math.imul
  let h = seed >>> 0;
  const blocks = Math.floor(bytes.length / 4);
  for (let b = 0; b < blocks; b++) {
    const i = b * 4;
    let k = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
    k = mul(rotl(mul(k, 0xcc9e2d51), 15), 0x1b873593);
    h = (h ^ k) >>> 0;
    h = (mul(rotl(h, 13), 5) + 0xe6546b64) >>> 0;
  }
  let k = 0;
  const tail = blocks * 4;
  const rest = bytes.length & 3;
  if (rest === 3) k ^= bytes[tail + 2]! << 16;
  if (rest >= 2) k ^= bytes[tail + 1]! << 8;
  if (rest >= 1) {
    k ^= bytes[tail]!;
    k = mul(rotl(mul(k >>> 0, 0xcc9e2d51), 15), 0x1b873593);
    h = (h ^ k) >>> 0;
  }
  h = (h ^ bytes.length) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = mul(h, 0x85ebca6b);
  h = (h ^ (h >>> 13)) >>> 0;
  h = mul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('murmur3 (MurmurHash3 x86_32 over UTF-8)', () => {
  it.each([
    // Well-known seed-0 vectors (smhasher-compatible implementations).
    ['', 0, 0],
    ['test', 0, 0xba6bd213],
    ['Hello, world!', 0, 0xc0363e43],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
    ['', 1, 0x514e28b7],
    ['Hello, world!', 1234, 0xfaf6cdb3],
    // Guava Murmur3_32HashFunctionTest.testKnownEncodedStringInputs (UTF-8).
    ['k', 0, 0xcfbda5d1],
    ['hell', 0, 0xa167dbf3],
    ['hello', 0, 0x248bfa47],
    ['http://www.google.com/', 0, 0x3d41b97c],
    ['ABCDefGHI\u0799', 0, 0xb5a4be05],
    ['毎月１日,毎週月曜日', 0, 0xfc5ba834],
    ['surrogate pair: \uD83D\uDCB0', 0, 0x8a5c3699],
    // rangercyh/lua-murmurhash3 test.lua (UTF-8 source strings).
    ['My hovercraft is full of eels.', 0, 2953494853],
    ['我的气垫船装满了鳗鱼。', 0, 4193185573],
    ['My 🚀 is full of 🦎.', 0, 1818098979],
    ['hello, world', 1, 0x6f5cb2e9],
    // itsgreggreg/mint-murmur3 tests (seeded). Its non-ASCII vectors are left out: like
    // murmurhash3js it hashes `charCode & 0xff`, not UTF-8 (its 'ππππππππ' value is exactly that).
    ['Turn me into a hash', 1234, 4138100590],
    ['Life, the Universe, and Everything.', 42, 458076548],
  ])('hashes %j with seed %d to the published value', (text, seed, expected) => {
    expect(murmur3(text, seed)).toBe(expected);
    expect(referenceHash(utf8(text), seed)).toBe(expected); // the reference agrees too
  });

  it('equals murmurhash3js (the Unleash Node SDK hash) on 100,000 ASCII slice:id strings, whole and prefixed', () => {
    const prefixes = ['payments.provider.mpesa:', 'api.get-transactions:', 'a:', 'abc:', 'abcd:'].map((p) => ({
      text: p,
      state: prepareHashPrefix(p),
    }));
    const random = rng(42);
    let mismatches = 0;
    for (let n = 0; n < 100_000; n++) {
      const prefix = prefixes[n % prefixes.length]!;
      const id = n % 3 === 0 ? String(n) : `user-${Math.floor(random() * 1e9).toString(36)}`;
      const expected = murmurhash3js.x86.hash32(prefix.text + id);
      if (murmur3(prefix.text + id) !== expected || hashWithPrefix(prefix.state, id) !== expected) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('equals the byte-array reference on random non-ASCII strings, whole and split at every prefix length', () => {
    const random = rng(7);
    const alphabet = ['a', 'Z', '7', ':', 'é', 'ß', 'ك', 'ह', '中', '€', '\u0800', '\uffff', '😀', '𝄞', '\uD800', '\uDFFF'];
    for (let n = 0; n < 2_000; n++) {
      let s = '';
      const length = Math.floor(random() * 12);
      for (let i = 0; i < length; i++) s += alphabet[Math.floor(random() * alphabet.length)];
      // Buffer (like TextEncoder) writes U+FFFD for lone surrogates: the reference sees those bytes.
      const expected = referenceHash(utf8(s));
      expect(murmur3(s)).toBe(expected);
      for (let cut = 0; cut <= s.length; cut++) {
        const head = s.slice(0, cut);
        const tail = s.slice(cut);
        // Cutting inside a surrogate pair changes the string's meaning (two lone surrogates), so
        // only compare where the pieces re-join to the same UTF-8 bytes.
        if (Buffer.compare(Buffer.concat([utf8(head), utf8(tail)]), Buffer.from(utf8(s))) === 0) {
          expect(hashWithPrefix(prepareHashPrefix(head), tail)).toBe(expected);
        }
      }
    }
  });

  it('equals the byte-array reference on ASCII runs mixed with any code unit, after a prefix of any length', () => {
    // The four-characters-at-a-time ASCII path must hand over exactly to the one-code-point path
    // and back, whatever the bytes pending from the prefix (0..3) and wherever non-ASCII falls.
    const unit = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
      { weight: 1, arbitrary: fc.constantFrom('😀', '𝄞', 'é', '€', '\u007f', '\u0080', '\u07ff', '\u0800') },
    );
    const text = fc.array(unit, { maxLength: 40 }).map((units) => units.join(''));
    fc.assert(
      fc.property(text, text, (prefix, value) => {
        const expected = referenceHash(utf8(prefix + value));
        expect(murmur3(prefix + value)).toBe(expected);
        // Where cutting does not split a surrogate pair, resuming from the prefix gives the same hash.
        if (Buffer.compare(Buffer.concat([utf8(prefix), utf8(value)]), Buffer.from(utf8(prefix + value))) === 0) {
          expect(hashWithPrefix(prepareHashPrefix(prefix), value)).toBe(expected);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('encodes lone surrogates as U+FFFD, like TextEncoder', () => {
    for (const s of ['\uD800', 'a\uDC00b', 'x\uD83D', '\uDE00\uD83D', 'a\uD800\uD800z']) {
      expect(murmur3(s)).toBe(referenceHash(new TextEncoder().encode(s)));
      expect(murmur3(s)).toBe(murmur3(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD')));
    }
  });

  it('keeps the pending bytes of a prefix that does not fill a block', () => {
    for (const prefix of ['', 'a', 'ab', 'abc', 'abcd', 'é', '€', '😀x']) {
      const state = prepareHashPrefix(prefix);
      expect(state.byteLength).toBe(utf8(prefix).length);
      expect(state.tailLength).toBe(state.byteLength % 4);
      expect(hashWithPrefix(state, '42')).toBe(murmur3(prefix + '42'));
      expect(hashWithPrefix(state, '')).toBe(murmur3(prefix));
    }
  });
});
