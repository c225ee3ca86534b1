import { IsString, MaxLength, MinLength } from 'class-validator';

/** POST /console/session: the token to sign in with. */
export class SignInInput {
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  token!: string;
}
