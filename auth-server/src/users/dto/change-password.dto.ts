import { ApiProperty } from '@nestjs/swagger';
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH } from '../../config/auth-config.js';
import { ChosenPassword, PresentedPassword } from './register-user.dto.js';

export class ChangePasswordDto {
  @ApiProperty({ minLength: 1, maxLength: 1024, description: "The account's password now" })
  @PresentedPassword()
  currentPassword: string;

  @ApiProperty({
    minLength: PASSWORD_MIN_LENGTH,
    maxLength: PASSWORD_MAX_BYTES,
    example: 'a new horse battery staple',
    description: `The new password, as at registration: hashed in Unicode NFC, at least ${PASSWORD_MIN_LENGTH} characters in NFC, at most ${PASSWORD_MAX_BYTES} bytes (UTF-8) as typed and in NFC; no control characters; at least one visible character; not one of the most common passwords; at least 4 different characters, not a short or common part repeated; not the account's email or the part before its @; not the current password`,
  })
  @ChosenPassword()
  newPassword: string;
}
