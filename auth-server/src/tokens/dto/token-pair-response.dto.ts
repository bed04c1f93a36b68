import { ApiProperty } from '@nestjs/swagger';

export class TokenPairResponseDto {
  @ApiProperty({ description: 'RS256 JWT; send as `Authorization: Bearer <accessToken>`' })
  accessToken: string;

  @ApiProperty({ description: 'Opaque; single use: each refresh returns a new one' })
  refreshToken: string;

  @ApiProperty({ example: 'Bearer' })
  tokenType: 'Bearer';

  @ApiProperty({ example: 900, description: 'Seconds until the access token expires' })
  expiresIn: number;
}
