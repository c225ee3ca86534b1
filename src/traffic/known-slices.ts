import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { type PublishedSnapshot, SnapshotService } from '../delivery/snapshot.service.js';

/**
 * The slice keys a report may count: those of the snapshot this instance serves (every slice,
 * archived ones included: slices are never deleted, and an SDK may count an archived slice until
 * it has the archive). Keys outside it are dropped before they are buffered, so junk keys cost
 * neither buffer room nor a row; with no snapshot yet (the database unreachable since start)
 * nothing is known and every key is dropped.
 *
 * Read from memory, never from the database. A slice created a moment ago reaches this
 * instance's snapshot within about a second (the change feed); an SDK counts a slice only once
 * some instance has served it, and reports seconds later, so the race costs little.
 */
@Injectable()
export class KnownSlices implements OnModuleInit {
  private snapshots: SnapshotService | null = null;
  private keysOf: { snapshot: PublishedSnapshot; keys: ReadonlySet<string>; watched: ReadonlySet<string> } | null = null;

  constructor(private readonly moduleRef: ModuleRef) {}

  /**
   * Looked up, not injected, like UnleashFeaturesService does it: importing DeliveryModule into
   * TrafficModule would change the order in which Nest destroys modules at shutdown.
   */
  onModuleInit(): void {
    this.snapshots = this.moduleRef.get(SnapshotService, { strict: false });
  }

  /** The keys of the current snapshot, as a set built once per snapshot; empty without one. */
  current(): ReadonlySet<string> {
    return this.of()?.keys ?? EMPTY;
  }

  /** The keys of the watched slices of the current snapshot (under a plan, or marked by hand); empty without one. */
  watched(): ReadonlySet<string> {
    return this.of()?.watched ?? EMPTY;
  }

  private of() {
    const snapshot = this.snapshots?.current() ?? null;
    if (snapshot === null) return null;
    if (this.keysOf?.snapshot !== snapshot) {
      const slices = snapshot.definition.slices;
      this.keysOf = { snapshot, keys: new Set(slices.map((s) => s.key)), watched: new Set(slices.filter((s) => s.watched === true).map((s) => s.key)) };
    }
    return this.keysOf;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
