import { ApiProperty } from '@nestjs/swagger';
import { ROLES, type Role } from '@reward/server-kit/roles';
import { ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsIn } from 'class-validator';

export class UpdateRolesDto {
  @ApiProperty({
    enum: ROLES,
    enumName: 'Role',
    isArray: true,
    minItems: 1,
    maxItems: ROLES.length,
    uniqueItems: true,
    example: ['USER', 'OPERATOR'],
    description: "Replaces the user's roles",
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(ROLES.length)
  @ArrayUnique()
  @IsIn(ROLES, { each: true })
  roles: Role[];
}
