import { applyDecorators } from '@nestjs/common';
import { ArgsType, Field, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { ATTRIBUTE_NAME_PATTERN, MAX_CONSTRAINT_VALUES, OPERATORS, type Operator, SLICE_KEY_PATTERN } from '@switchyard/client-sdk/core';
import { ChangeWithReasonArgs } from '../../common/dto/change.args.js';
import { ConstraintOperator } from '../models/segment.model.js';

const MAX_CONSTRAINTS = 50;

const KeyField = () =>
  applyDecorators(
    Field(() => String, { description: 'The segment key.' }),
    IsString(),
    Matches(SLICE_KEY_PATTERN, { message: '$property must be lowercase: a letter or digit, then up to 127 of a-z 0-9 . _ : / -' }),
  );

@InputType()
export class ConstraintInput {
  @Field()
  @IsString()
  @Matches(ATTRIBUTE_NAME_PATTERN, { message: 'attribute must be an attribute name' })
  attribute!: string;

  @Field(() => ConstraintOperator)
  @IsIn(OPERATORS)
  operator!: Operator;

  @Field(() => [String], {
    description: `IN / NOT_IN / STR_*: any number (up to ${MAX_CONSTRAINT_VALUES}); NUM_*, DATE_*, SEMVER_*: exactly one.`,
  })
  @IsArray()
  @ArrayMaxSize(MAX_CONSTRAINT_VALUES)
  @IsString({ each: true })
  @MaxLength(1000, { each: true })
  values!: string[];

  @Field({ defaultValue: false })
  @IsBoolean()
  inverted!: boolean;

  @Field({ defaultValue: false })
  @IsBoolean()
  caseInsensitive!: boolean;
}

@ArgsType()
export class CreateSegmentArgs extends ChangeWithReasonArgs {
  @KeyField()
  key!: string;

  @Field({ defaultValue: '' })
  @IsString()
  @MaxLength(2000)
  description!: string;

  @Field(() => [ConstraintInput], { description: 'All must hold. An explicit list of subjects is an IN on the id attribute.' })
  @IsArray()
  @ArrayMaxSize(MAX_CONSTRAINTS)
  @ValidateNested({ each: true })
  @Type(() => ConstraintInput)
  constraints!: ConstraintInput[];
}

@ArgsType()
export class UpdateSegmentArgs extends ChangeWithReasonArgs {
  @KeyField()
  key!: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string | null;

  @Field(() => [ConstraintInput], { nullable: true, description: 'Replaces all constraints when given.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_CONSTRAINTS)
  @ValidateNested({ each: true })
  @Type(() => ConstraintInput)
  constraints?: ConstraintInput[] | null;

  @Field(() => Int, { nullable: true, description: 'Refuse with CONFLICT unless the segment is at this version.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  expectedVersion?: number | null;
}

@ArgsType()
export class DeleteSegmentArgs extends ChangeWithReasonArgs {
  @KeyField()
  key!: string;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  expectedVersion?: number | null;
}

@ArgsType()
export class SegmentKeyArgs {
  @KeyField()
  key!: string;
}

@ArgsType()
export class SegmentsArgs {
  @Field(() => Int, { defaultValue: 50 })
  @IsInt()
  @Min(1)
  @Max(500)
  first!: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  after?: string | null;
}
