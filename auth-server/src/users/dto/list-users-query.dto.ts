import { ApiPropertyOptional } from '@nestjs/swagger';
import { PaginationQueryDto } from '@reward/server-kit/pagination';
import { ROLES, type Role } from '@reward/server-kit/roles';
import { IsIn, IsOptional } from 'class-validator';

export class ListUsersQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ enum: ROLES, description: 'Only users holding this role' })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;
}
