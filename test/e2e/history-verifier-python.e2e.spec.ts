import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { canonicalJson, chainHash, type ChainedRow } from '../../src/history/proof/hash-chain.js';

/**
 * docs/verify_history.py re-implements the canonical encoding and the row hashes from
 * docs/history.md alone. Here it meets thousands of generated values, JSON's hard cases among
 * them (every plane, lone surrogates, controls, U+2028, "</", doubles of every magnitude, keys that
 * sort differently by code point and by UTF-16 unit): byte for byte the same encoding, the same
 * hashes. Values travel to Python as JSON text, as they do in an export.
 */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constantFrom('\u2028', '\u2029', '</script>', '\u0000', '\u007f', '\u0085', '\u202e', '😀', '\uff01', '\ud800', '\udfff', 'e\u0301', '\ufeff', '"\\/'),
);
const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e21, 1e-7, 1e-6, 2 ** 53, 2 ** 53 + 2, 2 ** 60, 5e-324, Number.MAX_VALUE, 123456789012345680000),
);
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    number,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 5 }),
  ),
})).value;
const row: fc.Arbitrary<ChainedRow> = fc.record({
  position: fc.bigInt({ min: 1n, max: 2n ** 62n }).map(String),
  scheme: fc.constantFrom(1, 2),
  sequence: fc.bigInt({ min: 1n, max: 2n ** 62n }).map(String),
  sliceKey: fc.option(hostileString),
  segmentKey: fc.option(hostileString),
  action: hostileString,
  before: jsonValue,
  after: jsonValue,
  actor: hostileString,
  reason: fc.option(hostileString),
  idempotencyKey: fc.option(hostileString),
  requestId: fc.option(hostileString),
  recordedAt: fc.date({ min: new Date(0), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  prevHash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
});

const PYTHON = `
import json, sys
sys.path.insert(0, 'docs')
import verify_history as v
values = [json.loads(line) for line in sys.stdin.buffer.read().decode('utf-8').split('\\n') if line]
out = []
for item in values:
    out.append(v.canonical_json(item['value']) if 'value' in item else v.row_hash(item['row']))
sys.stdout.write(json.dumps(out, ensure_ascii=True))
`;

function python(input: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile('python3', ['-c', PYTHON], { cwd: process.cwd(), maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as string[]),
    );
    child.stdin!.end(input);
  });
}

describe('docs/verify_history.py', () => {
  it('encodes generated JSON values byte for byte as the service does', async () => {
    const values = fc.sample(jsonValue, { numRuns: 3000, seed: 20261124 });
    // JSON text is what an export carries: the value as JSON.stringify writes it, read back.
    const input = values.map((value) => JSON.stringify({ value })).join('\n');
    const theirs = await python(input);
    const ours = values.map((value) => canonicalJson(JSON.parse(JSON.stringify(value))));
    const firstDifference = ours.findIndex((c, i) => c !== theirs[i]);
    expect(firstDifference === -1 ? null : { value: values[firstDifference], ours: ours[firstDifference], theirs: theirs[firstDifference] }).toBeNull();
    expect(theirs).toHaveLength(values.length);
  });

  it('computes the same hash as the service for generated rows of both schemes', async () => {
    const rows = fc.sample(row, { numRuns: 1500, seed: 20261125 }).map((r) => JSON.parse(JSON.stringify(r)) as ChainedRow);
    const theirs = await python(rows.map((r) => JSON.stringify({ row: r })).join('\n'));
    expect(theirs).toEqual(rows.map((r) => chainHash(r)));
  });

  it('reproduces the golden vectors', async () => {
    const vectors = JSON.parse(readFileSync('test/fixtures/history-hash-vectors.json', 'utf8')) as {
      canonical: { value: unknown; canonical: string }[];
      rows: { row: ChainedRow; hash: string }[];
    };
    const input = [...vectors.canonical.map((c) => JSON.stringify({ value: c.value })), ...vectors.rows.map((r) => JSON.stringify({ row: r.row }))].join('\n');
    expect(await python(input)).toEqual([...vectors.canonical.map((c) => c.canonical), ...vectors.rows.map((r) => r.hash)]);
  });
});
