import { Injectable } from '@nestjs/common';
import { type Constraint, validateConstraint } from '@switchyard/client-sdk/core';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../access/auth.decorators.js';
import { InvalidInputException } from '../common/errors/switchyard.exception.js';
import { decodeCursor, toPage } from '../common/graphql/cursor.js';
import { ChangeService, type ResultCodec } from '../changes/change.service.js';
import { canonicalJson } from '../history/proof/hash-chain.js';
import { HistoryAction } from '../history/history-action.js';
import type { ConstraintInput, CreateSegmentArgs, DeleteSegmentArgs, SegmentsArgs, UpdateSegmentArgs } from './dto/segment.args.js';
import { normalizeConstraint, type SegmentRecord } from './segment-record.js';
import { SegmentException } from './segments.exception.js';
import { SegmentsRepository } from './segments.repository.js';

const SEGMENT_CODEC: ResultCodec<SegmentRecord> = { encode: (r) => r, decode: (j) => j as SegmentRecord };

@Injectable()
export class SegmentsService {
  constructor(
    private readonly segments: SegmentsRepository,
    private readonly changes: ChangeService,
  ) {}

  async get(key: string): Promise<SegmentRecord> {
    const segment = await this.segments.find(key);
    if (segment === null) throw SegmentException.notFound(key);
    return segment;
  }

  async list(args: SegmentsArgs) {
    const rows = await this.segments.list(args.first + 1, decodeCursor(args.after));
    return toPage(rows, args.first, (r) => r.key);
  }

  usedBy(key: string): Promise<string[]> {
    return this.segments.usedBy(key);
  }

  create(args: CreateSegmentArgs, actor: Actor): Promise<SegmentRecord> {
    const constraints = toConstraints(args.constraints);
    return this.changes.run({
      operation: 'createSegment',
      args,
      actor,
      codec: SEGMENT_CODEC,
      execute: async (tx, now) => {
        if ((await this.segments.find(args.key, tx)) !== null) {
          throw new SegmentException('SEGMENT_ALREADY_EXISTS', `Segment "${args.key}" already exists.`, { segmentKey: args.key });
        }
        const at = now.toISOString();
        const record: SegmentRecord = { key: args.key, description: args.description, constraints, version: 1, createdAt: at, updatedAt: at };
        await this.segments.insert(tx, record);
        return { result: record, history: [{ action: HistoryAction.SEGMENT_CREATED, segmentKey: record.key, before: null, after: record }] };
      },
    });
  }

  /** Changes every slice that uses the segment, at once: recorded as one segment change. */
  update(args: UpdateSegmentArgs, actor: Actor): Promise<SegmentRecord> {
    const constraints = args.constraints ? toConstraints(args.constraints) : null;
    return this.changes.run({
      operation: 'updateSegment',
      args,
      actor,
      codec: SEGMENT_CODEC,
      execute: async (tx, now) => {
        const current = await this.loadForChange(tx, args.key, args.expectedVersion);
        const description = args.description ?? current.description;
        const nextConstraints = constraints ?? current.constraints;
        // Asking for what is already so changes nothing: no new version, no history row.
        if (description === current.description && canonicalJson(nextConstraints) === canonicalJson(current.constraints)) {
          return { result: current, history: [] };
        }
        const next: SegmentRecord = {
          ...current,
          description,
          constraints: nextConstraints,
          version: current.version + 1,
          updatedAt: now.toISOString(),
        };
        await this.segments.save(tx, next);
        return { result: next, history: [{ action: HistoryAction.SEGMENT_UPDATED, segmentKey: next.key, before: current, after: next }] };
      },
    });
  }

  /** Refused while any slice's targeting names the segment (the foreign key refuses it too). */
  delete(args: DeleteSegmentArgs, actor: Actor): Promise<SegmentRecord> {
    return this.changes.run({
      operation: 'deleteSegment',
      args,
      actor,
      codec: SEGMENT_CODEC,
      execute: async (tx) => {
        const current = await this.loadForChange(tx, args.key, args.expectedVersion);
        const usedBy = await this.segments.usedBy(args.key, tx);
        if (usedBy.length > 0) {
          throw new SegmentException(
            'SEGMENT_IN_USE',
            `Segment "${args.key}" is used by ${usedBy.length} slice(s) (${usedBy.slice(0, 5).join(', ')}${usedBy.length > 5 ? ', ...' : ''}): remove it from their targeting first.`,
            { segmentKey: args.key, usedBy },
          );
        }
        await this.segments.delete(tx, args.key);
        return { result: current, history: [{ action: HistoryAction.SEGMENT_DELETED, segmentKey: current.key, before: current, after: null }] };
      },
    });
  }

  private async loadForChange(tx: EntityManager, key: string, expectedVersion?: number | null): Promise<SegmentRecord> {
    const current = await this.segments.find(key, tx);
    if (current === null) throw SegmentException.notFound(key);
    if (expectedVersion != null && expectedVersion !== current.version) {
      throw new SegmentException('SEGMENT_VERSION_CONFLICT', `Segment "${key}" is at version ${current.version}, not ${expectedVersion}: reload it and apply your change again.`, {
        segmentKey: key,
        expectedVersion,
        currentVersion: current.version,
      });
    }
    return current;
  }
}

/**
 * Validates values with the decision core's own parsers, so a bad number, date or semver is
 * refused now rather than silently never matching later.
 */
function toConstraints(inputs: readonly ConstraintInput[]): Constraint[] {
  const constraints = inputs.map((c) =>
    normalizeConstraint({ attribute: c.attribute, operator: c.operator, values: c.values, inverted: c.inverted, caseInsensitive: c.caseInsensitive }),
  );
  const violations = constraints.flatMap((c, i) =>
    validateConstraint(c).map((p) => ({
      field: `constraints[${i}].${p.field}${p.index === undefined ? '' : `[${p.index}]`}`,
      message: p.message,
    })),
  );
  if (violations.length > 0) throw new InvalidInputException(violations);
  return constraints;
}
