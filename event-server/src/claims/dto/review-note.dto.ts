import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';

export const MAX_NOTE_LENGTH = 1000;

/** Why a reviewer rejects or revokes a claim; kept on the claim and in the audit log. */
export class ReviewNoteDto {
  @ApiProperty({ minLength: 1, maxLength: MAX_NOTE_LENGTH, example: 'Duplicate account', description: 'Not only spaces' })
  @IsString()
  @MinLength(1)
  @Matches(/\S/, { message: 'note must not be blank' })
  @MaxLength(MAX_NOTE_LENGTH)
  note!: string;
}
