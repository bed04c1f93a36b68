import { ApiProperty } from '@nestjs/swagger';

export class JwkResponseDto {
  @ApiProperty({ example: 'RSA' })
  kty: 'RSA';

  @ApiProperty({ description: 'RSA modulus, base64url' })
  n: string;

  @ApiProperty({ description: 'RSA public exponent, base64url', example: 'AQAB' })
  e: string;

  @ApiProperty({ description: 'RFC 7638 thumbprint of the key; the `kid` header of access tokens' })
  kid: string;

  @ApiProperty({ example: 'RS256' })
  alg: 'RS256';

  @ApiProperty({ example: 'sig' })
  use: 'sig';
}

export class JwksResponseDto {
  @ApiProperty({
    type: [JwkResponseDto],
    description:
      'The key new tokens are signed with first; during a rotation of the signing key also the next or the previous one. ' +
      "Pick a token's key by its `kid`; fetch the set again for a `kid` it lacks.",
  })
  keys: JwkResponseDto[];
}
