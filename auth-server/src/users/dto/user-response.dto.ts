import { ApiProperty } from '@nestjs/swagger';
import { PageResponseDto } from '@reward/server-kit/pagination';
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

export class UserPageResponseDto extends PageResponseDto {
  @ApiProperty({ type: [UserResponseDto] })
  items: UserResponseDto[];
}
