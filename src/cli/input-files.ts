import { readFileSync } from 'node:fs';
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { type ConstraintInput, ConstraintSyntaxError, parseOperator } from './constraint-syntax.js';
import { CliError } from './errors.js';
import { percentText } from './parsers.js';

/**
 * Files that carry what is too long or too awkward for flags: a segment's constraints and a
 * slice's targeting, in YAML or JSON (JSON is YAML, so one parser, the `yaml` package, reads both
 * and gives line numbers for either). Each file's shape is checked here, field by field, before
 * anything is sent: a wrong file is a usage error (exit 2) that names the file, the line and the
 * field. What the service judges (a key's pattern, a value the operator cannot compare, a percent
 * out of range) is left to it.
 *
 * Text fields take a scalar as written: YAML reads `1.10` as the number 1.1 and `2024-01-01` could
 * be read as something else by another schema, but `values: [1.10]` means the text "1.10" here,
 * exactly what the file says (the source text of a plain scalar is used, never its value).
 */

/** A segment's constraints: what `segment create|update --file` reads. */
export interface ConstraintsFile {
  readonly constraints: ConstraintInput[];
  readonly description?: string;
  /** Where each constraint starts, to point at it when the service refuses one. */
  readonly lines: number[];
}

/** A slice's targeting: what `targeting set --file` reads. */
export interface TargetingFile {
  readonly include: string[];
  readonly exclude: string[];
  readonly rules: { segments: string[]; percent: number }[];
  readonly stickinessAttribute?: string;
  readonly ruleLines: number[];
}

export const CONSTRAINTS_FILE_HELP = `A constraints file (YAML or JSON) is a list of constraints, or a mapping with "constraints" and an optional "description":
  description: Staff, by e-mail address
  constraints:
    - attribute: email
      operator: STR_ENDS_WITH      # the GraphQL ConstraintOperator
      values: ["@example.com"]
      caseInsensitive: true        # optional, false by default
      inverted: false              # optional, false by default
Values are text as written: 1.10 is "1.10", not the number 1.1.`;

export const TARGETING_FILE_HELP = `A targeting file (YAML or JSON) replaces the slice's include, exclude and rules as a whole:
  exclude: [salary-run]            # forced to LEGACY; always wins
  include: [staff]                 # forced to NEW
  rules:                           # in order: the first whose segments all match decides
    - segments: [kenya]
      percent: 20
  stickinessAttribute: accountId   # optional: reshuffles who is on NEW`;

export function readConstraintsFile(path: string): ConstraintsFile {
  const file: YamlFile = YamlFile.read(path, 'The shape of a constraints file: `switchyard segment create --help`.');
  const root = file.root;
  let list: Node;
  let description: string | undefined;
  if (isSeq(root)) {
    list = root;
  } else {
    const fields = file.mapping(root, '', ['constraints', 'description']);
    if (fields.constraints === undefined) file.fail(root, '', 'no "constraints": a list of constraints is required (it may be empty: constraints: [])');
    list = fields.constraints;
    if (fields.description !== undefined) description = file.text(fields.description, 'description');
  }
  const items = file.list(list, 'constraints');
  const constraints = items.map(({ node, path: at }) => {
    const c = file.mapping(node, at, ['attribute', 'operator', 'values', 'inverted', 'caseInsensitive']);
    for (const required of ['attribute', 'operator', 'values'] as const) {
      if (c[required] === undefined) file.fail(node, at, `no "${required}" (a constraint has attribute, operator and values)`);
    }
    let operator;
    try {
      operator = parseOperator(file.text(c.operator!, `${at}.operator`));
    } catch (error) {
      if (error instanceof ConstraintSyntaxError) file.fail(c.operator!, `${at}.operator`, error.message);
      throw error;
    }
    return {
      attribute: file.text(c.attribute!, `${at}.attribute`),
      operator,
      values: file.list(c.values!, `${at}.values`).map(({ node: v, path: vp }) => file.text(v, vp)),
      inverted: c.inverted === undefined ? false : file.boolean(c.inverted, `${at}.inverted`),
      caseInsensitive: c.caseInsensitive === undefined ? false : file.boolean(c.caseInsensitive, `${at}.caseInsensitive`),
    };
  });
  return { constraints, ...(description !== undefined ? { description } : {}), lines: items.map(({ node }) => file.line(node)) };
}

export function readTargetingFile(path: string): TargetingFile {
  const file: YamlFile = YamlFile.read(path, 'The shape of a targeting file: `switchyard targeting set --help`.');
  const fields = file.mapping(file.root, '', ['include', 'exclude', 'rules', 'stickinessAttribute']);
  const keys = (name: 'include' | 'exclude') => (fields[name] === undefined ? [] : file.list(fields[name], name).map(({ node, path: at }) => file.text(node, at)));
  const rules = fields.rules === undefined ? [] : file.list(fields.rules, 'rules');
  return {
    include: keys('include'),
    exclude: keys('exclude'),
    rules: rules.map(({ node, path: at }) => {
      const r = file.mapping(node, at, ['segments', 'percent']);
      if (r.segments === undefined || r.percent === undefined) file.fail(node, at, 'a rule has "segments" (all must match) and "percent"');
      return { segments: file.list(r.segments, `${at}.segments`).map(({ node: s, path: sp }) => file.text(s, sp)), percent: file.percent(r.percent, `${at}.percent`) };
    }),
    ...(fields.stickinessAttribute !== undefined ? { stickinessAttribute: file.text(fields.stickinessAttribute, 'stickinessAttribute') } : {}),
    ruleLines: rules.map(({ node }) => file.line(node)),
  };
}

/** One parsed file, and the checks that refuse it with the file, line and field. */
class YamlFile {
  private constructor(
    private readonly path: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    /** The hint of every refusal: where the file's shape is described. */
    private readonly help: string,
  ) {}

  static read(path: string, help: string): YamlFile {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw CliError.usage(code === 'ENOENT' ? `No such file: ${path}.` : `Cannot read ${path}: ${code === 'EISDIR' ? 'it is a directory' : String(code ?? error)}.`);
    }
    const lines = new LineCounter();
    // uniqueKeys: a key given twice is an error, not "the last one wins".
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
    const first = doc.errors[0];
    if (first !== undefined) {
      const at = first.linePos?.[0];
      throw CliError.usage(`${path}${at ? `:${at.line}:${at.col}` : ''}: not valid YAML or JSON: ${first.message.split('\n')[0]}.`, help);
    }
    if (doc.contents === null) throw CliError.usage(`${path} is empty.`, help);
    return new YamlFile(path, doc, lines, help);
  }

  get root(): Node {
    return this.resolve(this.doc.contents!);
  }

  line(node: Node): number {
    return this.lines.linePos(node.range?.[0] ?? 0).line;
  }

  fail(node: Node, field: string, message: string): never {
    throw CliError.usage(`${this.path}:${this.line(node)}: ${field === '' ? '' : `${field}: `}${message}.`, this.help);
  }

  /** A mapping with only these keys (a misspelt key is an error, not ignored). */
  mapping<K extends string>(node: Node, at: string, allowed: readonly K[]): Partial<Record<K, Node>> {
    if (!isMap(node)) this.fail(node, at, `expected a mapping with ${allowed.join(', ')}, found ${this.describe(node)}`);
    const fields: Partial<Record<K, Node>> = {};
    for (const pair of node.items) {
      const keyNode = pair.key as Node;
      const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
      if (key === undefined || !(allowed as readonly string[]).includes(key)) {
        this.fail(keyNode, at, `unknown field ${key === undefined ? '(not text)' : `"${key}"`}: expected ${allowed.join(', ')}`);
      }
      if (pair.value === null) this.fail(keyNode, at === '' ? key : `${at}.${key}`, 'no value');
      fields[key as K] = this.resolve(pair.value as Node);
    }
    return fields;
  }

  list(node: Node, at: string): { node: Node; path: string }[] {
    if (!isSeq(node)) this.fail(node, at, `expected a list, found ${this.describe(node)}`);
    return node.items.map((item, i) => {
      if (item === null) this.fail(node, `${at}[${i}]`, 'an empty item');
      return { node: this.resolve(item as Node), path: `${at}[${i}]` };
    });
  }

  /** Text as the file writes it: a plain scalar's source (`1.10`, `true`, `0x1F` stay as typed). */
  text(node: Node, at: string): string {
    if (!isScalar(node)) this.fail(node, at, `expected text, found ${this.describe(node)}`);
    if (typeof node.value === 'string') return node.value;
    if (node.value === null) this.fail(node, at, 'no value: write "" for an empty text');
    // A number or boolean in a plain scalar (YAML) or a JSON literal: keep the characters.
    if (typeof node.source === 'string' && node.source !== '') return node.source;
    // A scalar's value: a number, boolean or bigint here (text and null returned above), never an object.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- see above
    return String(node.value);
  }

  boolean(node: Node, at: string): boolean {
    if (!isScalar(node) || typeof node.value !== 'boolean') this.fail(node, at, `expected true or false, found ${this.describe(node)}`);
    return node.value;
  }

  /** A number (`20`, `0.25`), or text such as "20%". Range and decimals are the service's to judge. */
  percent(node: Node, at: string): number {
    if (isScalar(node) && typeof node.value === 'number') return node.value;
    if (isScalar(node) && typeof node.value === 'string') {
      const percent = percentText(node.value);
      if (percent !== undefined) return percent;
    }
    this.fail(node, at, `expected a percent from 0 to 100 (e.g. 20 or 0.25), found ${this.describe(node)}`);
  }

  private resolve(node: Node): Node {
    return isAlias(node) ? (node.resolve(this.doc) as Node) : node;
  }

  private describe(node: Node): string {
    if (isMap(node)) return 'a mapping';
    if (isSeq(node)) return 'a list';
    if (isScalar(node)) return node.value === null ? 'nothing' : JSON.stringify(typeof node.value === 'string' ? node.value : (node.source ?? node.value));
    return 'something else';
  }
}
