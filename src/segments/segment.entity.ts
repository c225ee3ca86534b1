import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Constraint } from '@switchyard/client-sdk/core';

@Entity({ name: 'segments' })
export class SegmentEntity {
  @PrimaryColumn('text')
  key!: string;

  @Column('text')
  description!: string;

  @Column('jsonb')
  constraints!: Constraint[];

  @Column('integer')
  version!: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}

/** Which segments a slice's targeting names; the foreign keys guard segment deletion. */
@Entity({ name: 'slice_segments' })
export class SliceSegmentEntity {
  @PrimaryColumn('text', { name: 'slice_key' })
  sliceKey!: string;

  @PrimaryColumn('text', { name: 'segment_key' })
  segmentKey!: string;
}
