import { IsString, MaxLength, MinLength } from 'class-validator';

export const MAX_NOTE_LENGTH = 1000;

/** Why a reviewer rejects or revokes a claim; kept on the claim and in the audit log. */
export class ReviewNoteDto {
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NOTE_LENGTH)
  note!: string;
}
