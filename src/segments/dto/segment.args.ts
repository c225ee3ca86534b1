import { ArgsType, Field, InputType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { ATTRIBUTE_NAME_PATTERN, MAX_CONSTRAINT_VALUES, OPERATORS, type Operator } from '@switchyard/client-sdk/core';
import { AfterField, ExpectedVersionField, FirstField, KeyField } from '../../common/dto/fields.js';
import { ChangeWithReasonArgs } from '../../common/dto/change.args.js';
import { ConstraintOperator } from '../models/segment.model.js';

const MAX_CONSTRAINTS = 50;

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
  @KeyField('The segment key.')
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
  @KeyField('The segment key.')
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

  @ExpectedVersionField()
  expectedVersion?: number | null;
}

@ArgsType()
export class DeleteSegmentArgs extends ChangeWithReasonArgs {
  @KeyField('The segment key.')
  key!: string;

  @ExpectedVersionField()
  expectedVersion?: number | null;
}

@ArgsType()
export class SegmentKeyArgs {
  @KeyField('The segment key.')
  key!: string;
}

@ArgsType()
export class SegmentsArgs {
  @FirstField()
  first!: number;

  @AfterField()
  after?: string | null;
}
