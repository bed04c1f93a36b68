import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { PresentedPassword } from '../../users/dto/register-user.dto.js';
import { legacyEmailSpelling } from '../../users/user.js';

export class LoginDto {
  @ApiProperty({ minLength: 1, maxLength: 254, example: 'alice@example.com' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? legacyEmailSpelling(value) : value))
  @IsString()
  @MinLength(1)
  @MaxLength(254)
  email: string;

  @ApiProperty({
    minLength: 1,
    maxLength: 1024,
    example: 'correct horse battery staple',
    description:
      'Compared in Unicode NFC (also as typed, for a password chosen before passwords were normalised); no control characters (no account can have them)',
  })
  @PresentedPassword()
  password: string;
}
