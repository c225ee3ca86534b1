/**
 * Storage, injected: where the client finds a snapshot to start from (the bootstrap) and where it
 * keeps the last one the service sent (the backup). Both hold a snapshot as the JSON text of
 * `GET /sdk/v1/snapshot`, so that any of them can serve as any other.
 *
 * The client builds them from its options (storage/backup-file.ts for `backupFile` and
 * `bootstrap: { file }`, an in-memory source for a bootstrap object); what it does with them (the
 * newer one wins at start, every new revision is written in the background, one write at a time)
 * is the snapshot holder's business (snapshot/), not the storage's.
 */

/** Somewhere a snapshot can be read from. */
export interface SnapshotReader {
  /** What it is, for error messages: `the file /var/lib/app/switchyard.json`. */
  readonly name: string;
  /** The snapshot's JSON text; undefined when there is none (no file yet). Rejects when it cannot be read. */
  read(): Promise<string | undefined>;
}

/** Somewhere a snapshot can be read from and written to. */
export interface SnapshotStore extends SnapshotReader {
  /** Replaces the stored snapshot with `text`, all or nothing: a failure leaves the previous one whole. */
  write(text: string): Promise<void>;
}

/** A snapshot given in code (the `bootstrap` option as an object). */
export function snapshotInMemory(snapshot: unknown): SnapshotReader {
  return {
    name: 'the bootstrap object',
    // Serialised when read, not before: a copy taken then (the host may reuse or mutate its object;
    // ours must stay what was compiled), and a cyclic object is a read failure, reported as such.
    // eslint-disable-next-line @typescript-eslint/require-await -- async turns a cyclic object's TypeError into a failed read
    read: async () => JSON.stringify(snapshot),
  };
}
