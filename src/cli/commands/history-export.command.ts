import { createWriteStream, type WriteStream } from 'node:fs';
import { type Command, Option } from 'commander';
import { exportHeaderLine, exportRowLine } from '../../history/proof/history-export.js';
import type { HashedRow } from '../../history/proof/hash-chain.js';
import { CliError, READ_TOKENS } from '../errors.js';
import { formatCount } from '../output.js';
import { parsePositiveInt } from '../parsers.js';
import type { OpenSession } from '../session.js';

const PAGE_SIZE = 500; // the API's largest page

const CHAIN = `query($from: String!, $to: String, $first: Int!) {
  historyChain(fromPosition: $from, toPosition: $to, first: $first) {
    position scheme sequence sliceKey segmentKey action before after actor reason idempotencyKey requestId recordedAt prevHash hash
  }
}`;

/**
 * `switchyard history export`: the chain (or a range of it) as NDJSON, one row a line after a
 * header, in the format docs/history.md specifies and `verify-history --file` (or any verifier
 * written from that page) checks offline. Pages through the API in chain order; rows appended
 * meanwhile are included up to the head the last page sees (or --to).
 */
export function registerExportCommand(history: Command, open: OpenSession): void {
  history
    .command('export')
    .description('write the history chain (or a range of positions) as NDJSON, for offline verification (verify-history --file)')
    .addOption(new Option('--from <position>', 'first position (default: 1, the start of the chain)').argParser(parsePositiveInt))
    .addOption(new Option('--to <position>', 'last position (default: the head)').argParser(parsePositiveInt))
    .addOption(new Option('--out <file>', 'write to this file, which must not exist yet (default: stdout)'))
    .action(async (options: { from?: number; to?: number; out?: string }, command: Command) => {
      const { client, out } = open(command);
      const from = options.from ?? 1;
      if (options.to !== undefined && options.to < from) throw CliError.usage(`--to ${options.to} is before --from ${from}.`);
      if (out.json && options.out === undefined) {
        throw CliError.usage('The export itself goes to stdout: --json needs --out <file> (then stdout carries the summary).');
      }
      const sink = options.out === undefined ? null : await openNew(options.out);
      const write = (text: string) => (sink === null ? out.raw(text) : writeTo(sink, text));

      let rows = 0;
      let last: string | null = null;
      try {
        await write(
          `${exportHeaderLine({ fromPosition: String(from), toPosition: options.to === undefined ? null : String(options.to), exportedAt: new Date().toISOString() })}\n`,
        );
        let next = BigInt(from);
        for (;;) {
          const { historyChain: page } = await client.request<{ historyChain: HashedRow[] }>(
            CHAIN,
            { from: next.toString(), to: options.to === undefined ? null : String(options.to), first: PAGE_SIZE },
            { action: 'read history', allowedTokens: READ_TOKENS },
          );
          if (page.length > 0) await write(page.map((row) => `${exportRowLine(row)}\n`).join(''));
          rows += page.length;
          last = page.at(-1)?.position ?? last;
          if (page.length < PAGE_SIZE || last === null) break;
          next = BigInt(last) + 1n;
        }
      } finally {
        if (sink !== null) await close(sink);
      }
      const summary = { rows, fromPosition: String(from), lastPosition: last, file: options.out ?? null };
      const text = `Exported ${formatCount(rows)} history rows${last !== null ? ` (positions ${from} to ${last})` : ''}${options.out ? ` to ${options.out}` : ''}.`;
      if (sink === null) out.note(text);
      else out.result(summary, () => text);
    });
}

async function openNew(path: string): Promise<WriteStream> {
  const stream = createWriteStream(path, { flags: 'wx', mode: 0o644 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EEXIST'
          ? CliError.usage(`${path} exists already.`, 'An export is evidence: choose a new file name rather than overwrite one.')
          : CliError.usage(`Cannot write ${path}: ${error.code ?? error.message}.`),
      ),
    );
  });
  return stream;
}

function writeTo(stream: WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

function close(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
}
