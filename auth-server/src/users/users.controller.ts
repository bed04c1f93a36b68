import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '@reward/server-kit/auth.guards';
import { requireEmptyBody } from '@reward/server-kit/empty-body';
import { clientKeyOf } from '@reward/server-kit/connection-limits';
import { ApiEndpoint, ApiPageQuery } from '@reward/server-kit/openapi';
import { ParseObjectIdPipe } from '@reward/server-kit/object-id.pipe';
import { type AuthenticatedUser, Role } from '@reward/server-kit/roles';
import { startByOf } from '@reward/server-kit/start-by';
import type { FastifyRequest } from 'fastify';
import { ChangePasswordDto } from './dto/change-password.dto.js';
import { ListUsersQueryDto } from './dto/list-users-query.dto.js';
import { UpdateRolesDto } from './dto/update-roles.dto.js';
import { UserPageResponseDto, UserResponseDto } from './dto/user-response.dto.js';
import { CurrentAccount, CurrentRolesGuard } from './current-roles.guard.js';
import { toUserResponse } from './user.mapper.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Controller('users')
@UseGuards(CurrentRolesGuard)
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @ApiEndpoint({ operationId: 'getMe', summary: "The caller's account", errors: { 404: ['USER_NOT_FOUND'] } })
  @ApiOkResponse({ type: UserResponseDto })
  async me(@CurrentUser() caller: AuthenticatedUser): Promise<UserResponseDto> {
    return toUserResponse(await this.users.get(caller.id));
  }

  @Post('me/password')
  @HttpCode(204)
  // A token made stale by "log out everywhere" (or an earlier change of password) must not change it.
  @CurrentAccount()
  @ApiEndpoint({
    operationId: 'changePassword',
    summary: "Change the caller's password (given the current one); every session ends",
    description:
      "Every refresh token of the account stops working at once, this session's too: sign in again with the new " +
      'password. Access tokens can make no staff write on the event server from 60 s later, nor use the auth ' +
      "server's staff routes. A wrong current password is 403 WRONG_PASSWORD and counts as a failed login of the " +
      'account from this address (429 with Retry-After once throttled, as POST /auth/login).',
    errors: {
      401: ['STALE_ACCESS_TOKEN'],
      403: ['WRONG_PASSWORD'],
      404: ['USER_NOT_FOUND'],
      429: ['TOO_MANY_REQUESTS'],
      503: ['AUTH_BUSY', 'SERVICE_UNAVAILABLE'],
    },
  })
  @ApiNoContentResponse({ description: 'Changed; every session ended' })
  changePassword(
    @CurrentUser() caller: AuthenticatedUser,
    @Body() body: ChangePasswordDto,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    return this.users.changePassword(
      caller.id,
      body.currentPassword,
      body.newPassword,
      clientKeyOf(request.ip),
      startByOf(request.headers),
    );
  }

  @Get()
  @Roles(Role.ADMIN)
  @ApiEndpoint({
    operationId: 'listUsers',
    summary: 'Users, newest first, optionally only those holding a role',
    description: "Authorized against the caller's current roles, not the token's.",
    errors: { 401: ['STALE_ACCESS_TOKEN'] },
  })
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
    description:
      "The change is recorded in the audit log. Authorized against the caller's current roles, not the token's. " +
      'A change that would leave no ADMIN is refused (409 LAST_ADMIN), also when two admins demote each other at ' +
      "once. The user's older access tokens can make no staff write on the event server from 60 s after the change.",
    errors: { 401: ['STALE_ACCESS_TOKEN'], 404: ['USER_NOT_FOUND'], 409: ['LAST_ADMIN'], 503: ['SERVICE_UNAVAILABLE'] },
  })
  @ApiOkResponse({ type: UserResponseDto })
  async replaceRoles(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: UpdateRolesDto,
    @Req() request: FastifyRequest,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.users.changeRoles(caller.id, id, body.roles, startByOf(request.headers)));
  }

  @Post(':id/logout-all')
  @HttpCode(204)
  // A token made stale by an earlier "log out everywhere" (or a role change) must not start another one.
  @CurrentAccount()
  @ApiEndpoint({
    operationId: 'logoutEverywhere',
    summary: 'End every session of a user (the caller themselves, or any user for an ADMIN)',
    description:
      "Every refresh token of the user stops working at once; the user's access tokens can make no staff write on " +
      "the event server from 60 s later, nor use the auth server's staff routes (this one included: 401 " +
      'STALE_ACCESS_TOKEN). An ADMIN is judged by current roles.',
    errors: { 401: ['STALE_ACCESS_TOKEN'], 403: ['FORBIDDEN'], 404: ['USER_NOT_FOUND'], 503: ['SERVICE_UNAVAILABLE'] },
  })
  @ApiNoContentResponse({ description: 'Logged out everywhere' })
  logoutEverywhere(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    requireEmptyBody(body);
    return this.users.logoutEverywhere(caller.id, id, startByOf(request.headers));
  }
}
