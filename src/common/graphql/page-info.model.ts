import { Field, ObjectType } from '@nestjs/graphql';

/** Cursor pagination: pass `endCursor` as `after` to get the next page. */
@ObjectType()
export class PageInfo {
  @Field(() => String, { nullable: true })
  endCursor!: string | null;

  @Field()
  hasNextPage!: boolean;
}
