import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { FreezeSchedule } from './freeze-schedule.js';

@Entity({ name: 'freeze_windows' })
export class FreezeWindowEntity {
  @PrimaryColumn('text')
  key!: string;

  @Column('text')
  description!: string;

  @Column('text', { name: 'time_zone' })
  timeZone!: string;

  @Column('jsonb')
  schedule!: FreezeSchedule;

  @Column('text', { nullable: true })
  tag!: string | null;

  @Column('integer')
  version!: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
