import { applyDecorators } from '@nestjs/common';
import { Field, Int } from '@nestjs/graphql';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { SLICE_KEY_PATTERN } from '@switchyard/client-sdk/core';

/** A slice or segment key (one pattern for both, shared with every SDK). */
export const KeyField = (description: string) =>
  applyDecorators(
    Field(() => String, { description }),
    IsString(),
    Matches(SLICE_KEY_PATTERN, { message: '$property must be lowercase: a letter or digit, then up to 127 of a-z 0-9 . _ : / -' }),
  );

/** Optimistic concurrency: the change is refused with CONFLICT unless the version still matches. */
export const ExpectedVersionField = () =>
  applyDecorators(
    Field(() => Int, { nullable: true, description: 'Refuse with CONFLICT unless the current version is this one.' }),
    IsOptional(),
    IsInt(),
    Min(1),
  );

/** The largest page a connection serves (`first`); query-cost.ts's perPage clamps to it too. */
export const MAX_PAGE_SIZE = 500;

/** Page size and cursor for connections. */
export const FirstField = () =>
  applyDecorators(
    Field(() => Int, { defaultValue: 50 }),
    IsInt(),
    Min(1),
    Max(MAX_PAGE_SIZE),
  );
export const AfterField = () =>
  applyDecorators(
    Field(() => String, { nullable: true, description: 'endCursor of the previous page.' }),
    IsOptional(),
    IsString(),
    MaxLength(200),
  );
