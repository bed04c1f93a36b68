import { VISIBLE_CHARACTER } from '@reward/server-kit/validation';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';

export const MAX_NOTE_LENGTH = 1000;

/** Why a reviewer rejects or revokes a claim; kept on the claim and in the audit log. */
export class ReviewNoteDto {
  @ApiProperty({
    minLength: 1,
    maxLength: MAX_NOTE_LENGTH,
    example: 'Duplicate account',
    description: 'Not only spaces or invisible characters',
  })
  @IsString()
  @MinLength(1)
  @Matches(VISIBLE_CHARACTER, { message: 'note must not be blank (only spaces or invisible characters)' })
  @MaxLength(MAX_NOTE_LENGTH)
  note!: string;
}
