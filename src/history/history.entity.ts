import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One append-only history row. The database refuses UPDATE, DELETE and TRUNCATE on the table. */
@Entity({ name: 'history' })
export class HistoryEntity {
  /** bigint: pg returns it as a string, and so do we (it can exceed 2^53 in theory). */
  @PrimaryColumn('bigint')
  sequence!: string;

  /** 1, 2, 3... without gaps, in chain order (bigint, as a string). */
  @Column('bigint')
  position!: string;

  /** How the hash is computed (see hash-chain.ts): 1 for rows from before positions, 2 since. */
  @Column('smallint')
  scheme!: number;

  @Column('text', { name: 'slice_key', nullable: true })
  sliceKey!: string | null;

  @Column('text', { name: 'segment_key', nullable: true })
  segmentKey!: string | null;

  @Column('text')
  action!: string;

  @Column('jsonb', { nullable: true })
  before!: unknown;

  @Column('jsonb', { nullable: true })
  after!: unknown;

  @Column('text')
  actor!: string;

  @Column('text', { nullable: true })
  reason!: string | null;

  @Column('text', { name: 'idempotency_key', nullable: true })
  idempotencyKey!: string | null;

  @Column('text', { name: 'request_id', nullable: true })
  requestId!: string | null;

  @Column('timestamptz', { name: 'recorded_at' })
  recordedAt!: Date;

  @Column('text', { name: 'prev_hash' })
  prevHash!: string;

  @Column('text')
  hash!: string;
}
