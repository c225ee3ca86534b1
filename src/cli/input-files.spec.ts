import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { readConstraintsFile, readTargetingFile } from './input-files.js';

describe('constraint and targeting files', () => {
  let dir: string;
  let n = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-files-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function file(text: string, ext = 'yaml'): string {
    const path = join(dir, `f${++n}.${ext}`);
    writeFileSync(path, text);
    return path;
  }

  /** The usage error a file gets: exit 2, naming the file (and the line when there is one). */
  function refusal(read: () => unknown): CliError {
    try {
      read();
    } catch (error) {
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode).toBe(ExitCode.USAGE);
      return error as CliError;
    }
    throw new Error('expected the file to be refused');
  }

  it('reads constraints as a mapping (YAML) or a bare list (JSON), defaults and all', () => {
    const yaml = file(`# staff
description: Staff, by e-mail address
constraints:
  - attribute: email
    operator: str_ends_with
    values: ["@example.com"]
    caseInsensitive: true
  - attribute: country
    operator: NOT_IN
    values: [KE, GH]
    inverted: false
`);
    expect(readConstraintsFile(yaml)).toEqual({
      description: 'Staff, by e-mail address',
      constraints: [
        { attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'], inverted: false, caseInsensitive: true },
        { attribute: 'country', operator: 'NOT_IN', values: ['KE', 'GH'], inverted: false, caseInsensitive: false },
      ],
      lines: [4, 8],
    });
    const json = file('[{"attribute": "userId", "operator": "IN", "values": []}]', 'json');
    expect(readConstraintsFile(json)).toEqual({ constraints: [{ attribute: 'userId', operator: 'IN', values: [], inverted: false, caseInsensitive: false }], lines: [1] });
    expect(readConstraintsFile(file('constraints: []')).constraints).toEqual([]);
  });

  it('takes values as written: YAML numbers, booleans and hex stay the text in the file', () => {
    const path = file(`- attribute: appVersion
  operator: IN
  values: [1.10, 010, 0x1F, true, 1e3, 2024-01-01, "quoted", 'single']
`);
    expect(readConstraintsFile(path).constraints[0]!.values).toEqual(['1.10', '010', '0x1F', 'true', '1e3', '2024-01-01', 'quoted', 'single']);
    expect(readConstraintsFile(file('[{"attribute":"n","operator":"NUM_GT","values":[1.50]}]', 'json')).constraints[0]!.values).toEqual(['1.50']);
  });

  it.each([
    ['not YAML', 'constraints: [a, b'],
    ['empty', ''],
    ['a key twice', 'constraints: []\nconstraints: []'],
    ['two documents', 'constraints: []\n---\nconstraints: []'],
    ['a misspelt field', 'constraint: []'],
    ['no constraints', 'description: x'],
    ['a scalar', 'hello'],
    ['a constraint without values', '- attribute: a\n  operator: IN'],
    ['an unknown operator', '- {attribute: a, operator: ISIN, values: [x]}'],
    ['an unknown constraint field', '- {attribute: a, operator: IN, values: [x], negate: true}'],
    ['values not a list', '- {attribute: a, operator: IN, values: x}'],
    ['a value that is a list', '- {attribute: a, operator: IN, values: [[x]]}'],
    ['a null value', '- {attribute: a, operator: IN, values: [~]}'],
    ['inverted not a boolean', '- {attribute: a, operator: IN, values: [x], inverted: "yes"}'],
    ['description a list', 'description: [a]\nconstraints: []'],
  ])('refuses constraints with %s (exit 2)', (_what, text) => {
    refusal(() => readConstraintsFile(file(text)));
  });

  it('names the file and the line of what is wrong', () => {
    const path = file('constraints:\n  - attribute: a\n    operator: IN\n    values: [x]\n  - attribute: b\n    operator: IN\n    values: [y]\n    inverted: maybe\n');
    expect(refusal(() => readConstraintsFile(path)).message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8: constraints\\[1\\]\\.inverted: `));
  });

  it('a missing file or a directory is a usage error', () => {
    refusal(() => readConstraintsFile(join(dir, 'no-such-file.yaml')));
    refusal(() => readTargetingFile(dir));
  });

  it('reads targeting, every part optional, percent as a number or "20%"', () => {
    const path = file(`exclude: [salary-run]
include: [staff, beta]
rules:
  - segments: [kenya, android]
    percent: 50
  - segments: [kenya]
    percent: "20%"
stickinessAttribute: accountId
`);
    expect(readTargetingFile(path)).toEqual({
      exclude: ['salary-run'],
      include: ['staff', 'beta'],
      rules: [
        { segments: ['kenya', 'android'], percent: 50 },
        { segments: ['kenya'], percent: 20 },
      ],
      stickinessAttribute: 'accountId',
      ruleLines: [4, 6],
    });
    expect(readTargetingFile(file('{}', 'json'))).toEqual({ include: [], exclude: [], rules: [], ruleLines: [] });
  });

  it.each([
    ['a list', '[staff]'],
    ['a misspelt field', 'includes: [staff]'],
    ['a rule without percent', 'rules: [{segments: [kenya]}]'],
    ['a rule with a percent that is not one', 'rules: [{segments: [kenya], percent: lots}]'],
    ['a rule with an extra field', 'rules: [{segments: [kenya], percent: 5, weight: 2}]'],
    ['include not a list', 'include: staff'],
  ])('refuses targeting with %s (exit 2)', (_what, text) => {
    refusal(() => readTargetingFile(file(text)));
  });
});
