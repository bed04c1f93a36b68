import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '@reward/server-kit/auth.guards';
import { requireEmptyBody } from '@reward/server-kit/empty-body';
import { CommonErrorCode } from '@reward/server-kit/errors';
import { ApiEndpoint, ApiPageQuery } from '@reward/server-kit/openapi';
import { ParseObjectIdPipe } from '@reward/server-kit/object-id.pipe';
import { type Page, PaginationQueryDto } from '@reward/server-kit/pagination';
import { type AuthenticatedUser, Role } from '@reward/server-kit/roles';
import { startByOf } from '@reward/server-kit/start-by';
import { CreateWebhookEndpointDto, UpdateWebhookEndpointDto } from './dto/webhook-endpoint-input.dto.js';
import {
  WebhookEndpointPageResponseDto,
  WebhookEndpointResponseDto,
  WebhookEndpointWithSecretResponseDto,
} from './dto/webhook-endpoint-response.dto.js';
import { WebhookEndpointsService } from './webhook-endpoints.service.js';
import { WebhookErrorCode } from './webhook.errors.js';

const URL_ERRORS = [WebhookErrorCode.INVALID_WEBHOOK_URL, WebhookErrorCode.WEBHOOK_URL_REFUSED];
const NOT_FOUND = { 404: [WebhookErrorCode.WEBHOOK_ENDPOINT_NOT_FOUND] };
/**
 * A change that waited 5 s for another change to the same endpoint (EditLock), or until its start-by time, having
 * changed nothing.
 */
const EDIT_BUSY = { 503: [CommonErrorCode.SERVICE_UNAVAILABLE] };

@ApiTags('webhooks')
@Controller('webhook-endpoints')
@Roles(Role.ADMIN)
export class WebhookEndpointsController {
  constructor(private readonly endpoints: WebhookEndpointsService) {}

  @Post()
  @HttpCode(201)
  @ApiEndpoint({
    operationId: 'createWebhookEndpoint',
    summary: 'Subscribe a receiver to claim events (payout webhooks)',
    description:
      'The answer carries the signing `secret`, shown only this once. http(s) only; loopback, private and ' +
      'link-local addresses are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true, cloud metadata addresses always. ' +
      'Recorded in the audit log. At most 20 endpoints exist at once (`WEBHOOK_ENDPOINTS_MAX`): one more is ' +
      '409 WEBHOOK_ENDPOINT_LIMIT, nothing created (every grant is sent to each subscribed endpoint).',
    // 503: the URL's lookup or another creation took it past its start-by time; nothing created.
    errors: {
      400: URL_ERRORS,
      409: [WebhookErrorCode.WEBHOOK_ENDPOINT_LIMIT],
      503: [CommonErrorCode.SERVICE_UNAVAILABLE],
    },
  })
  @ApiCreatedResponse({ type: WebhookEndpointWithSecretResponseDto })
  create(
    @Body() body: CreateWebhookEndpointDto,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<WebhookEndpointResponseDto & { secret: string }> {
    return this.endpoints.create(body, actor, startByOf(request.headers));
  }

  @Get()
  @ApiEndpoint({ operationId: 'listWebhookEndpoints', summary: 'Webhook endpoints, newest first (without secrets)' })
  @ApiPageQuery()
  @ApiOkResponse({ type: WebhookEndpointPageResponseDto })
  list(@Query() query: PaginationQueryDto): Promise<Page<WebhookEndpointResponseDto>> {
    return this.endpoints.list(query);
  }

  @Get(':id')
  @ApiEndpoint({ operationId: 'getWebhookEndpoint', summary: 'A webhook endpoint (without its secret)', errors: NOT_FOUND })
  @ApiOkResponse({ type: WebhookEndpointResponseDto })
  get(@Param('id', ParseObjectIdPipe) id: string): Promise<WebhookEndpointResponseDto> {
    return this.endpoints.get(id);
  }

  @Patch(':id')
  @ApiEndpoint({
    operationId: 'updateWebhookEndpoint',
    summary: 'Change the url, events, description, or enable/disable an endpoint',
    description: 'A new url is checked like on creation. Recorded in the audit log.',
    errors: { 400: URL_ERRORS, ...NOT_FOUND, ...EDIT_BUSY },
  })
  @ApiOkResponse({ type: WebhookEndpointResponseDto })
  update(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: UpdateWebhookEndpointDto,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<WebhookEndpointResponseDto> {
    return this.endpoints.update(id, body, actor, startByOf(request.headers));
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiEndpoint({
    operationId: 'rotateWebhookSecret',
    summary: 'Replace the signing secret (shown once); the previous one still signs for 24 h',
    description:
      'Until `previousSecretExpiresAt` every request carries two signatures, one per secret, so the receiver can ' +
      'switch without a gap; secrets rotated out earlier keep signing until their own 24 h end (at most three ' +
      'rotated-out secrets at once). Other replicas sign with the old secret alone for up to ' +
      'WEBHOOK_ENDPOINT_CACHE_MS (5 s) after the rotation. No body (or `{}`). Recorded in the audit log.',
    errors: { 400: [CommonErrorCode.VALIDATION_FAILED, CommonErrorCode.INVALID_JSON], ...NOT_FOUND, ...EDIT_BUSY },
  })
  @ApiOkResponse({ type: WebhookEndpointWithSecretResponseDto })
  rotate(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: unknown,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<WebhookEndpointResponseDto & { secret: string }> {
    requireEmptyBody(body);
    return this.endpoints.rotateSecret(id, actor, startByOf(request.headers));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiEndpoint({
    operationId: 'deleteWebhookEndpoint',
    summary: 'Delete an endpoint; its pending deliveries end as FAILED',
    description: 'No body (or `{}`). Recorded in the audit log.',
    errors: { 400: [CommonErrorCode.VALIDATION_FAILED, CommonErrorCode.INVALID_JSON], ...NOT_FOUND, ...EDIT_BUSY },
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  async remove(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: unknown,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    // As every route without a body: a field is refused, not ignored (`{"enabled": false}` meant as "disable"
    // must not delete the endpoint and drop what it is still owed).
    requireEmptyBody(body);
    await this.endpoints.remove(id, actor, startByOf(request.headers));
  }
}
