import { ApiProperty } from '@nestjs/swagger';
import { ROLES, type Role } from '@reward/server-kit/roles';

export class UserResponseDto {
  @ApiProperty({ example: '665f1c2b9d3e4a0012345678' })
  id: string;

  @ApiProperty({ example: 'alice@example.com' })
  email: string;

  @ApiProperty({ type: String, nullable: true, example: 'alice' })
  nickname: string | null;

  @ApiProperty({ enum: ROLES, isArray: true, example: ['USER'] })
  roles: Role[];

  @ApiProperty({ example: 'K7M2Q9XA', description: 'Give it to friends: registering with it counts as an invitation' })
  referralCode: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class UserPageResponseDto {
  @ApiProperty({ type: [UserResponseDto] })
  items: UserResponseDto[];

  @ApiProperty({ example: 1 })
  page: number;

  @ApiProperty({ example: 20 })
  limit: number;

  @ApiProperty({ example: 1 })
  total: number;
}
