import { diffSnapshots, type SnapshotDefinition } from '@switchyard/client-sdk/core';
import { type ContentEncoding, PreparedBody } from './prepared-body.js';

export type { ContentEncoding };

/**
 * A snapshot as served: serialized once, written as is to every request and stream (its body a
 * PreparedBody: compressed forms made on first demand).
 */
export class PublishedSnapshot {
  readonly etag: string;
  /** The JSON body of GET /sdk/v1/snapshot, and its compressed forms. */
  readonly prepared: PreparedBody;
  /** The same snapshot as one Server-Sent Event. */
  readonly event: Buffer;
  /**
   * The change from the snapshot published before this one, as one `delta` event, for the streams
   * that hold exactly `baseRevision` (PROTOCOL.md); null for the first snapshot, or when the delta
   * would not be smaller than the snapshot itself.
   */
  readonly deltaEvent: Buffer | null = null;
  readonly baseRevision: number | null = null;
  /**
   * `event` and `deltaEvent` framed as HTTP/1.1 chunks (`<size hex>\r\n<bytes>\r\n`), once: a
   * stream over chunked encoding writes them to its socket as they are, one write per stream and
   * change (see StreamHub).
   */
  readonly eventChunk: Buffer;
  readonly deltaChunk: Buffer | null = null;
  /**
   * Only the revision, as one `revision` event, for streams opened with `?revisions=1` (the
   * console: it refetches what it shows when the revision moves and never reads the snapshot; at
   * 1,000 slices the first snapshot event was 142 KB of its page load). Made on first demand.
   */
  private revisionEventBytes: Buffer | null = null;

  /** @param previous - the snapshot this one replaces, if any: the delta is computed from it, once. */
  constructor(
    readonly definition: SnapshotDefinition,
    previous: PublishedSnapshot | null = null,
  ) {
    const json = JSON.stringify({ ...definition, generatedAt: new Date().toISOString() });
    this.etag = `"${definition.revision}"`;
    this.prepared = new PreparedBody(Buffer.from(json));
    this.event = Buffer.from(`id: ${definition.revision}\nevent: snapshot\ndata: ${json}\n\n`);
    this.eventChunk = httpChunk(this.event);
    if (previous !== null && previous.revision < definition.revision) {
      const delta = JSON.stringify(diffSnapshots(previous.definition, definition));
      if (delta.length < json.length) {
        this.deltaEvent = Buffer.from(`id: ${definition.revision}\nevent: delta\ndata: ${delta}\n\n`);
        this.deltaChunk = httpChunk(this.deltaEvent);
        this.baseRevision = previous.revision;
      }
    }
  }

  get revision(): number {
    return this.definition.revision;
  }

  /** `event: revision` with this revision as id and data (PROTOCOL.md, "revisions only"). */
  get revisionEvent(): Buffer {
    this.revisionEventBytes ??= Buffer.from(`id: ${this.revision}\nevent: revision\ndata: {"revision":${this.revision}}\n\n`);
    return this.revisionEventBytes;
  }

  /** The JSON body of GET /sdk/v1/snapshot. */
  get body(): Buffer {
    return this.prepared.body;
  }

  /** The body in `encoding`, compressed once per revision (a 55 KB snapshot becomes 2 to 5 KB). */
  encoded(encoding: ContentEncoding): Buffer {
    return this.prepared.encoded(encoding);
  }
}

/** `bytes` as one chunk of HTTP/1.1 chunked transfer coding (RFC 9112, 7.1). */
function httpChunk(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
}
