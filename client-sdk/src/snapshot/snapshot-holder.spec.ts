/**
 * The snapshot holder alone: no network, time on a ManualClock, storage in memory (a real
 * implementation of the storage port, as a host could give one; the file adapter has its own spec).
 */
import { diffSnapshots, type SnapshotDefinition } from '../core/index.js';
import type { SwitchyardError } from '../errors.js';
import type { SnapshotStore } from '../ports/storage.js';
import { snapshotInMemory } from '../ports/storage.js';
import { snapshotAt } from '../testing/fixtures.js';
import { ManualClock } from '../testing/manual-clock.js';
import { SnapshotHolder, type ServiceSnapshotChange } from './snapshot-holder.js';

const alice = { userId: 'alice' };

/** A store in memory; `failWrites` makes every write fail. */
class MemoryStore implements SnapshotStore {
  readonly name = 'memory';
  readonly writes: string[] = [];
  failWrites = false;
  constructor(private text: string | undefined = undefined) {}
  read(): Promise<string | undefined> {
    return Promise.resolve(this.text);
  }
  write(text: string): Promise<void> {
    if (this.failWrites) return Promise.reject(new Error('disk full'));
    this.writes.push(text);
    this.text = text;
    return Promise.resolve();
  }
}

function setUp(backup?: SnapshotStore) {
  const clock = new ManualClock();
  const errors: SwitchyardError[] = [];
  const changes: ServiceSnapshotChange[] = [];
  const holder = new SnapshotHolder({ clock, random: () => 0.5, backup, report: (e) => errors.push(e), onServiceSnapshot: (c) => changes.push(c) });
  return { clock, errors, changes, holder, codes: () => errors.map((e) => e.code) };
}

const text = (snapshot: SnapshotDefinition) => JSON.stringify(snapshot);
const delta = (base: SnapshotDefinition, next: SnapshotDefinition) => JSON.stringify(diffSnapshots(base, next));

describe('SnapshotHolder', () => {
  it('answers LEGACY with nothing held, and holds no service revision before the service is heard', async () => {
    const { holder } = setUp();
    await holder.loadInitial(snapshotInMemory(snapshotAt(4)));
    expect(holder.current.explain('checkout', alice)).toEqual({ path: 'NEW', reason: 'ROLLOUT' });
    expect([holder.revision, holder.source, holder.heldServiceRevision()]).toEqual([4, 'bootstrap', undefined]);
  });

  it('only moves forward: an older revision is refused (STALE_SNAPSHOT), the same one is not compiled again', () => {
    const { holder, changes, codes } = setUp();
    holder.offerSnapshot(text(snapshotAt(5)), 'stream');
    const held = holder.current;
    holder.offerSnapshot(text(snapshotAt(5, 0)), 'poll');
    expect(holder.current).toBe(held);
    holder.offerSnapshot(text(snapshotAt(4, 0)), 'poll');
    expect(codes()).toEqual(['STALE_SNAPSHOT']);
    expect([holder.revision, holder.current.decide('checkout', alice)]).toEqual([5, 'NEW']);
    expect(changes.map((c) => [c.previousRevision, c.current.revision])).toEqual([[null, 5]]);
  });

  it('applies a delta on exactly its base, says it needs the snapshot otherwise, and ignores one it holds', () => {
    const { holder, changes, codes } = setUp();
    expect(holder.offerDelta(delta(snapshotAt(1), snapshotAt(2, 0)))).toBe('needs-snapshot'); // nothing held
    holder.offerSnapshot(text(snapshotAt(1)), 'stream');
    expect(holder.offerDelta(delta(snapshotAt(2), snapshotAt(3, 0)))).toBe('needs-snapshot'); // a missed revision
    expect(holder.offerDelta(delta(snapshotAt(1), snapshotAt(2, 0, ['bob'])))).toBe('applied');
    expect(changes.at(-1)).toMatchObject({ previousRevision: 1, changedSlices: ['checkout', 'search'] });
    expect(holder.offerDelta(delta(snapshotAt(1), snapshotAt(2, 0)))).toBe('held');
    expect(holder.offerDelta('{not json')).toBe('needs-snapshot');
    expect(codes()).toEqual(['INVALID_SNAPSHOT']);
    expect([holder.revision, holder.current.decide('checkout', alice), holder.current.decide('search', { userId: 'bob' })]).toEqual([2, 'LEGACY', 'NEW']);
  });

  it('folds a delta into the snapshot 1 to 2 s later, on the clock, deciding the same', async () => {
    const { holder, clock } = setUp();
    holder.offerSnapshot(text(snapshotAt(1)), 'stream');
    holder.offerDelta(delta(snapshotAt(1), snapshotAt(2, 5_000)));
    holder.offerDelta(delta(snapshotAt(2, 5_000), snapshotAt(3, 2_500))); // one fold for both
    expect(clock.pendingRequested()).toEqual([1_500]);
    const overlaid = holder.current;
    const subjects = Array.from({ length: 200 }, (_, i) => ({ userId: `user-${i}` }));
    const before = subjects.map((s) => overlaid.decide('checkout', s));
    await clock.advance(1_499);
    expect(holder.current).toBe(overlaid);
    await clock.advance(1);
    expect(holder.current).not.toBe(overlaid);
    expect(holder.current.revision).toBe(3);
    expect(subjects.map((s) => holder.current.decide('checkout', s))).toEqual(before);
  });

  it('keeps what the service sent in the backup (as sent, or the definition after a delta), not a bootstrap', async () => {
    const backup = new MemoryStore();
    const { holder } = setUp(backup);
    await holder.loadInitial(snapshotInMemory(snapshotAt(1)));
    const sent = text(snapshotAt(2));
    holder.offerSnapshot(sent, 'poll');
    holder.offerDelta(delta(snapshotAt(2), snapshotAt(3, 0)));
    await holder.flush();
    expect(backup.writes[0]).toBe(sent);
    // After a delta: the definition of what is held (slices in another order: order means nothing).
    const kept = JSON.parse(backup.writes.at(-1)!) as SnapshotDefinition;
    expect({ ...kept, slices: [...kept.slices].sort((x, y) => x.key.localeCompare(y.key)) }).toEqual(snapshotAt(3, 0));
  });

  it('reports a failed backup write and keeps the snapshot', async () => {
    const backup = new MemoryStore();
    backup.failWrites = true;
    const { holder, codes } = setUp(backup);
    holder.offerSnapshot(text(snapshotAt(2)), 'poll');
    await holder.flush();
    expect(codes()).toEqual(['BACKUP_WRITE_FAILED']);
    expect(holder.revision).toBe(2);
  });

  it('starts from the newer of bootstrap and backup, the other when the newer does not compile', async () => {
    const newerBackup = setUp(new MemoryStore(text(snapshotAt(9))));
    await newerBackup.holder.loadInitial(snapshotInMemory(snapshotAt(2)));
    expect([newerBackup.holder.source, newerBackup.holder.revision]).toEqual(['backup', 9]);

    const brokenBackup = setUp(new MemoryStore('{"revision": 9, "slices": "x", "segments": []}'));
    await brokenBackup.holder.loadInitial(snapshotInMemory(snapshotAt(2)));
    expect([brokenBackup.holder.source, brokenBackup.holder.revision]).toEqual(['bootstrap', 2]);
    expect(brokenBackup.codes()).toEqual(['BACKUP_READ_FAILED']);

    const missing = setUp();
    await missing.holder.loadInitial({ name: 'the file /nowhere.json', read: () => Promise.resolve(undefined) });
    expect([missing.holder.source, missing.codes()]).toEqual(['none', ['BOOTSTRAP_FAILED']]);
  });

  it('takes nothing after close, and drops a pending fold', () => {
    const { holder, clock, changes } = setUp();
    holder.offerSnapshot(text(snapshotAt(1)), 'stream');
    holder.offerDelta(delta(snapshotAt(1), snapshotAt(2, 0)));
    holder.close();
    expect(clock.pendingDelays()).toEqual([]);
    holder.offerSnapshot(text(snapshotAt(3)), 'poll');
    expect(holder.offerDelta(delta(snapshotAt(2, 0), snapshotAt(3)))).toBe('held');
    expect([holder.revision, changes.length]).toEqual([2, 2]);
  });
});
