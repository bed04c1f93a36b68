import { Body, Controller, Get, Param, Patch, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '@reward/server-kit/auth.guards';
import { ApiEndpoint, ApiPageQuery } from '@reward/server-kit/openapi';
import { ParseObjectIdPipe } from '@reward/server-kit/object-id.pipe';
import { type AuthenticatedUser, Role } from '@reward/server-kit/roles';
import { ListUsersQueryDto } from './dto/list-users-query.dto.js';
import { UpdateRolesDto } from './dto/update-roles.dto.js';
import { UserPageResponseDto, UserResponseDto } from './dto/user-response.dto.js';
import { toUserResponse } from './user.mapper.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @ApiEndpoint({ operationId: 'getMe', summary: "The caller's account", errors: { 404: ['USER_NOT_FOUND'] } })
  @ApiOkResponse({ type: UserResponseDto })
  async me(@CurrentUser() caller: AuthenticatedUser): Promise<UserResponseDto> {
    return toUserResponse(await this.users.get(caller.id));
  }

  @Get()
  @Roles(Role.ADMIN)
  @ApiEndpoint({ operationId: 'listUsers', summary: 'Users, newest first, optionally only those holding a role' })
  @ApiPageQuery()
  @ApiOkResponse({ type: UserPageResponseDto })
  async list(@Query() query: ListUsersQueryDto): Promise<UserPageResponseDto> {
    const page = await this.users.list(query);
    return { ...page, items: page.items.map(toUserResponse) };
  }

  @Patch(':id/roles')
  @Roles(Role.ADMIN)
  @ApiEndpoint({
    operationId: 'updateUserRoles',
    summary: "Replace a user's roles",
    description: 'The change is recorded in the audit log.',
    errors: { 404: ['USER_NOT_FOUND'] },
  })
  @ApiOkResponse({ type: UserResponseDto })
  async replaceRoles(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: UpdateRolesDto,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.users.changeRoles(caller.id, id, body.roles));
  }
}
