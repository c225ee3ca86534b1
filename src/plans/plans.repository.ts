import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { PlanGates } from './evaluation/contract.js';
import type { PlanApproval, PlanLook, PlanPhase, PlanRecord, PlanStep } from './plan-record.js';

interface PlanRow {
  id: string;
  slice_key: string;
  phase: PlanPhase;
  steps: PlanStep[];
  gates: PlanGates;
  author: string;
  current_step: number;
  step_started_at: Date | null;
  approvals: PlanApproval[];
  status: PlanLook | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, slice_key, phase, steps, gates, author, current_step, step_started_at, approvals, status, version, created_at, updated_at';

/** A slice's RUNNING plan, as RUNNING_OF_SLICE_AS_JSON reads it. */
export interface RunningPlan {
  readonly id: string;
  readonly currentStep: number;
  /** How many steps it has. */
  readonly steps: number;
}

/** The plans table (migrations/1765200000000-CreatePlans.ts). The only code that queries it. */
@Injectable()
export class PlansRepository {
  /**
   * The RUNNING plan of the slice row `s` as a RunningPlan (json), null when none: an expression for
   * a change to read with its slice (ExposureGuard.sliceRead). At most one plan per slice is open.
   */
  static readonly RUNNING_OF_SLICE_AS_JSON = `SELECT json_build_object('id', p.id, 'currentStep', p.current_step, 'steps', jsonb_array_length(p.steps))
         FROM plans p WHERE p.slice_key = s.key AND p.phase = 'RUNNING' LIMIT 1`;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The slice's open plan, else its newest; with `lock`, the row is locked for the transaction. */
  async findBySlice(sliceKey: string, tx: EntityManager = this.dataSource.manager, lock = false): Promise<PlanRecord | null> {
    const rows: PlanRow[] = await tx.query(
      `SELECT ${COLUMNS} FROM plans WHERE slice_key = $1
       ORDER BY (phase IN ('PENDING', 'RUNNING', 'PAUSED')) DESC, created_at DESC, id LIMIT 1${lock ? ' FOR UPDATE' : ''}`,
      [sliceKey],
    );
    return rows[0] === undefined ? null : toRecord(rows[0]);
  }

  /** The plan with its last look (the status), as `findBySlice`. */
  async findWithLook(sliceKey: string): Promise<{ plan: PlanRecord; look: PlanLook | null } | null> {
    return (await this.findManyWithLook([sliceKey])).get(sliceKey) ?? null;
  }

  /** `findWithLook` for many slices in one query (Slice.plan on a page of slices). */
  async findManyWithLook(sliceKeys: readonly string[]): Promise<Map<string, { plan: PlanRecord; look: PlanLook | null }>> {
    if (sliceKeys.length === 0) return new Map();
    const rows: PlanRow[] = await this.dataSource.query(
      `SELECT DISTINCT ON (slice_key) ${COLUMNS} FROM plans WHERE slice_key = ANY($1::text[])
       ORDER BY slice_key, (phase IN ('PENDING', 'RUNNING', 'PAUSED')) DESC, created_at DESC, id`,
      [sliceKeys],
    );
    return new Map(rows.map((r) => [r.slice_key, { plan: toRecord(r), look: r.status }]));
  }

  /** Plans in slice-key order (each slice's open plan or newest), `first` after `afterKey`, with their looks. */
  async list(phase: PlanPhase | null, first: number, afterKey: string | null): Promise<{ plan: PlanRecord; look: PlanLook | null }[]> {
    const rows: PlanRow[] = await this.dataSource.query(
      `SELECT * FROM (
         SELECT DISTINCT ON (slice_key) ${COLUMNS} FROM plans
         WHERE ($2::text IS NULL OR slice_key COLLATE "C" > $2)
         ORDER BY slice_key, (phase IN ('PENDING', 'RUNNING', 'PAUSED')) DESC, created_at DESC, id) p
       WHERE ($1::text IS NULL OR phase = $1) ORDER BY slice_key COLLATE "C" LIMIT $3`,
      [phase, afterKey, first],
    );
    return rows.map((r) => ({ plan: toRecord(r), look: r.status }));
  }

  /** The slice keys of RUNNING plans (the runner looks at each). */
  /** The RUNNING plans' slices, and whether each plan has a latency gate (InstanceEvidenceService's scope). */
  async runningScope(): Promise<{ sliceKey: string; latency: boolean }[]> {
    const rows: { slice_key: string; latency: boolean }[] = await this.dataSource.query(
      `SELECT slice_key, jsonb_typeof(gates -> 'latency') = 'object' AS latency FROM plans WHERE phase = 'RUNNING' ORDER BY slice_key`,
    );
    return rows.map((r) => ({ sliceKey: r.slice_key, latency: r.latency === true }));
  }

  async running(): Promise<string[]> {
    const rows: { slice_key: string }[] = await this.dataSource.query(`SELECT slice_key FROM plans WHERE phase = 'RUNNING' ORDER BY slice_key`);
    return rows.map((r) => r.slice_key);
  }

  async insert(tx: EntityManager, p: PlanRecord): Promise<void> {
    await tx.query(`INSERT INTO plans (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12)`, [
      p.id,
      p.sliceKey,
      p.phase,
      JSON.stringify(p.steps),
      JSON.stringify(p.gates),
      p.author,
      p.currentStep,
      p.stepStartedAt,
      JSON.stringify(p.approvals),
      p.version,
      p.createdAt,
      p.updatedAt,
    ]);
  }

  /** Writes the whole record (the caller bumped its version); a new step or phase clears the last look. */
  async save(tx: EntityManager, p: PlanRecord, clearLook: boolean): Promise<void> {
    await tx.query(
      `UPDATE plans SET phase = $2, current_step = $3, step_started_at = $4, approvals = $5, version = $6, updated_at = $7${clearLook ? ', status = NULL, looked_at = NULL' : ''}
       WHERE id = $1`,
      [p.id, p.phase, p.currentStep, p.stepStartedAt, JSON.stringify(p.approvals), p.version, p.updatedAt],
    );
  }

  /**
   * Records a look at the plan while it is still at `version` (a look at a plan that changed
   * since is dropped): not a change, no history row, no version bump.
   */
  async recordLook(id: string, version: number, look: PlanLook): Promise<boolean> {
    // Through a CTE: a bare UPDATE's result has another shape in TypeORM ([rows, count]).
    const rows: { n: string }[] = await this.dataSource.query(
      `WITH u AS (UPDATE plans SET status = $3, looked_at = $4 WHERE id = $1 AND version = $2 AND phase = 'RUNNING' RETURNING 1) SELECT count(*)::text AS n FROM u`,
      [id, version, JSON.stringify(look), look.at],
    );
    return Number(rows[0]!.n) > 0;
  }
}

function toRecord(r: PlanRow): PlanRecord {
  return {
    id: r.id,
    sliceKey: r.slice_key,
    phase: r.phase,
    steps: r.steps,
    gates: r.gates,
    author: r.author,
    currentStep: r.current_step,
    stepStartedAt: r.step_started_at === null ? null : new Date(r.step_started_at).toISOString(),
    approvals: r.approvals,
    version: r.version,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}
