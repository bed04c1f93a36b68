import { Body, Controller, Get, Param, Patch, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '@reward/server-kit/auth.guards';
import { ParseObjectIdPipe } from '@reward/server-kit/object-id.pipe';
import { type AuthenticatedUser, Role } from '@reward/server-kit/roles';
import { ListUsersQueryDto } from './dto/list-users-query.dto.js';
import { UpdateRolesDto } from './dto/update-roles.dto.js';
import { UserPageResponseDto, UserResponseDto } from './dto/user-response.dto.js';
import { toUserResponse } from './user.mapper.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@ApiBearerAuth()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @ApiOkResponse({ type: UserResponseDto })
  async me(@CurrentUser() caller: AuthenticatedUser): Promise<UserResponseDto> {
    return toUserResponse(await this.users.get(caller.id));
  }

  @Get()
  @Roles(Role.ADMIN)
  @ApiQuery({ name: 'page', required: false, type: Number, description: 'From 1 (default 1)' })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: '1..100 (default 20)' })
  @ApiOkResponse({ type: UserPageResponseDto })
  @ApiForbiddenResponse({ description: 'Not an ADMIN' })
  async list(@Query() query: ListUsersQueryDto): Promise<UserPageResponseDto> {
    const page = await this.users.list(query);
    return { ...page, items: page.items.map(toUserResponse) };
  }

  @Patch(':id/roles')
  @Roles(Role.ADMIN)
  @ApiOkResponse({ type: UserResponseDto })
  @ApiNotFoundResponse({ description: 'USER_NOT_FOUND' })
  async replaceRoles(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: UpdateRolesDto,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.users.changeRoles(caller.id, id, body.roles));
  }
}
