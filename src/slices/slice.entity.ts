import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { SliceState } from '@switchyard/client-sdk/core';
import type { StoredTargeting } from './slice-record.js';

@Entity({ name: 'slices' })
export class SliceEntity {
  @PrimaryColumn('text')
  key!: string;

  @Column('text')
  description!: string;

  @Column('text')
  owner!: string;

  @Column('text', { array: true })
  tags!: string[];

  @Column('text', { name: 'stickiness_attribute' })
  stickinessAttribute!: string;

  @Column('integer', { name: 'basis_points' })
  basisPoints!: number;

  @Column('jsonb')
  targeting!: StoredTargeting;

  @Column('text')
  state!: SliceState;

  /** Sorted; empty for nearly every slice (SliceRecord.rolledBackSegments). */
  @Column('text', { name: 'rolled_back_segments', array: true })
  rolledBackSegments!: string[];

  @Column('boolean')
  watched!: boolean;

  @Column('integer', { name: 'shadow_basis_points' })
  shadowBasisPoints!: number;

  @Column('integer', { name: 'mismatch_threshold_ppm' })
  mismatchThresholdPpm!: number;

  @Column('integer')
  version!: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
