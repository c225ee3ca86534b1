import { Field, GraphQLISODateTime, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { FreezeWindowRecord } from '../freeze-window-record.js';

export enum FreezeWindowKind {
  ONE_OFF = 'ONE_OFF',
  RECURRING = 'RECURRING',
}
registerEnumType(FreezeWindowKind, { name: 'FreezeWindowKind' });

@ObjectType()
export class FreezeRecurrence {
  @Field(() => [Int], { nullable: true })
  daysOfMonth!: number[] | null;

  @Field(() => [Int], { nullable: true, description: 'ISO weekdays: 1 Monday ... 7 Sunday.' })
  weekdays!: number[] | null;

  @Field()
  at!: string;

  @Field()
  duration!: string;
}

@ObjectType({ description: 'A span of time during which exposure cannot be raised without an admin override (docs/freeze-windows.md).' })
export class FreezeWindow {
  @Field()
  key!: string;

  @Field()
  description!: string;

  @Field()
  timeZone!: string;

  @Field(() => FreezeWindowKind)
  kind!: FreezeWindowKind;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'One-off windows only.' })
  from!: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'One-off windows only (exclusive).' })
  until!: Date | null;

  @Field(() => FreezeRecurrence, { nullable: true, description: 'Recurring windows only.' })
  recurrence!: FreezeRecurrence | null;

  @Field(() => String, { nullable: true, description: 'Only slices with this tag; null: every slice.' })
  tag!: string | null;

  @Field(() => Int)
  version!: number;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;

  @Field(() => GraphQLISODateTime)
  updatedAt!: Date;

  /** The record it was made from, for the field resolvers (active, next); not a field. */
  record!: FreezeWindowRecord;

  static from(r: FreezeWindowRecord): FreezeWindow {
    const s = r.schedule;
    return Object.assign(new FreezeWindow(), {
      record: r,
      key: r.key,
      description: r.description,
      timeZone: r.timeZone,
      kind: s.kind === 'ONE_OFF' ? FreezeWindowKind.ONE_OFF : FreezeWindowKind.RECURRING,
      from: s.kind === 'ONE_OFF' ? new Date(s.from) : null,
      until: s.kind === 'ONE_OFF' ? new Date(s.until) : null,
      recurrence:
        s.kind === 'RECURRING'
          ? { daysOfMonth: s.daysOfMonth == null ? null : [...s.daysOfMonth], weekdays: s.weekdays == null ? null : [...s.weekdays], at: s.at, duration: s.duration }
          : null,
      tag: r.tag,
      version: r.version,
      createdAt: new Date(r.createdAt),
      updatedAt: new Date(r.updatedAt),
    });
  }
}

@ObjectType({ description: 'One freeze of a window: when it starts and ends, and where its local times are read.' })
export class FreezePeriod {
  @Field({ description: 'The window key.' })
  window!: string;

  @Field()
  timeZone!: string;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When it starts (null for the active one: it is on).' })
  from!: Date | null;

  @Field(() => GraphQLISODateTime)
  until!: Date;
}

@ObjectType({ description: "The freeze windows that cover a slice, as of the service's clock." })
export class SliceFreeze {
  @Field(() => FreezePeriod, { nullable: true, description: 'The window on now that ends last; null: exposure may be raised.' })
  active!: FreezePeriod | null;

  @Field(() => FreezePeriod, { nullable: true, description: 'The next window to start after now (after the active one ends, for the same window).' })
  next!: FreezePeriod | null;
}
