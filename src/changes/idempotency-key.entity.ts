import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The first result of a mutation sent with an idempotency key. */
@Entity({ name: 'idempotency_keys' })
export class IdempotencyKeyEntity {
  @PrimaryColumn('text')
  key!: string;

  @Column('text')
  operation!: string;

  @Column('text', { name: 'request_hash' })
  requestHash!: string;

  @Column('text')
  actor!: string;

  @Column('jsonb')
  response!: unknown;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;
}
