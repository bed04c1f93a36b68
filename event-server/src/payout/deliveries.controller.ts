import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '@reward/server-kit/auth.guards';
import { requireEmptyBody } from '@reward/server-kit/empty-body';
import { CommonErrorCode } from '@reward/server-kit/errors';
import { ApiEndpoint, ApiPageQuery } from '@reward/server-kit/openapi';
import { ParseObjectIdPipe } from '@reward/server-kit/object-id.pipe';
import type { Page } from '@reward/server-kit/pagination';
import { type AuthenticatedUser, Role } from '@reward/server-kit/roles';
import { DeliveriesService } from './deliveries.service.js';
import { ListDeliveriesQueryDto } from './dto/delivery-query.dto.js';
import {
  DeliveryPageResponseDto,
  DeliveryResponseDto,
  RetryFailedResponseDto,
  SendPendingResponseDto,
} from './dto/delivery-response.dto.js';
import { PayoutErrorCode } from './payout.errors.js';
import { WebhookErrorCode } from '../webhooks/webhook.errors.js';

@ApiTags('webhooks')
@Controller('deliveries')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get()
  @Roles(Role.OPERATOR, Role.AUDITOR)
  @ApiEndpoint({
    operationId: 'listDeliveries',
    summary: 'Webhook deliveries, newest first, with every attempt (status code, latency, error)',
  })
  @ApiPageQuery()
  @ApiOkResponse({ type: DeliveryPageResponseDto })
  list(@Query() query: ListDeliveriesQueryDto): Promise<Page<DeliveryResponseDto>> {
    const { page, limit, status, endpointId, claimId } = query;
    return this.deliveries.list(
      {
        ...(status && { status }),
        ...(endpointId && { endpointId: endpointId.toLowerCase() }),
        ...(claimId && { claimId: claimId.toLowerCase() }),
      },
      { page, limit },
    );
  }

  @Post(':id/retry')
  @HttpCode(200)
  @Roles(Role.OPERATOR)
  @ApiEndpoint({
    operationId: 'retryDelivery',
    summary: 'Send a FAILED delivery again (a fresh retry schedule)',
    description:
      'Same `webhook-id` and body as before. No body (or `{}`). Recorded in the audit log. Of concurrent retries of ' +
      'one failure one succeeds, the others are 409 `DELIVERY_NOT_FAILED`; a delivery whose endpoint was deleted ' +
      'is 409 `DELIVERY_ENDPOINT_DELETED`, one whose endpoint is disabled 409 `DELIVERY_ENDPOINT_DISABLED` (enable it, ' +
      "then retry). All of an endpoint's FAILED deliveries at once: `POST /webhook-endpoints/{id}/retry-failed`.",
    errors: {
      400: [CommonErrorCode.VALIDATION_FAILED, CommonErrorCode.INVALID_JSON],
      404: [PayoutErrorCode.DELIVERY_NOT_FOUND],
      409: [
        PayoutErrorCode.DELIVERY_NOT_FAILED,
        PayoutErrorCode.DELIVERY_ENDPOINT_DELETED,
        PayoutErrorCode.DELIVERY_ENDPOINT_DISABLED,
      ],
    },
  })
  @ApiOkResponse({ type: DeliveryResponseDto })
  retry(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: unknown,
    @CurrentUser() actor: AuthenticatedUser,
  ): Promise<DeliveryResponseDto> {
    requireEmptyBody(body);
    return this.deliveries.retry(id, actor);
  }
}

/** An endpoint's deliveries as a whole (the endpoints themselves are managed by WebhookEndpointsController). */
@ApiTags('webhooks')
@Controller('webhook-endpoints')
export class EndpointDeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Post(':id/send-pending')
  @HttpCode(202)
  @Roles(Role.OPERATOR)
  @ApiEndpoint({
    operationId: 'sendPendingDeliveries',
    summary: "Send an endpoint's PENDING deliveries now, not at their next retry time (after a receiver outage)",
    description:
      'For OPERATOR (and ADMIN). Every PENDING delivery to the endpoint last attempted before this request gets ' +
      "one attempt now, by whichever replica's relay takes it (another replica learns of the request within " +
      'about 10 s; those never attempted are due anyway), with the same `webhook-id` and body, and that attempt ' +
      'starts its retry schedule over (as a retry of a FAILED one does). A delivery is sent once for the request, ' +
      "whichever replicas know of it (replicas' clocks must agree, NTP). FAILED deliveries are not touched " +
      '(`POST /webhook-endpoints/{id}/retry-failed`, or one by one `POST /deliveries/{id}/retry`). No body (or ' +
      '`{}`). Recorded in the audit log.',
    errors: {
      400: [CommonErrorCode.VALIDATION_FAILED, CommonErrorCode.INVALID_JSON],
      404: [WebhookErrorCode.WEBHOOK_ENDPOINT_NOT_FOUND],
      409: [PayoutErrorCode.DELIVERY_ENDPOINT_DISABLED],
    },
  })
  @ApiAcceptedResponse({ type: SendPendingResponseDto })
  sendPending(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: unknown,
    @CurrentUser() actor: AuthenticatedUser,
  ): Promise<SendPendingResponseDto> {
    requireEmptyBody(body);
    return this.deliveries.sendPending(id, actor);
  }

  @Post(':id/retry-failed')
  @HttpCode(202)
  @Roles(Role.OPERATOR)
  @ApiEndpoint({
    operationId: 'retryFailedDeliveries',
    summary: "Send an endpoint's FAILED deliveries again (after an outage, or after a stray 410 disabled it)",
    description:
      'For OPERATOR (and ADMIN). Every FAILED delivery to the endpoint last attempted before this request is made ' +
      'PENDING again with a fresh retry schedule, as `POST /deliveries/{id}/retry` does one, and sent with the same ' +
      "`webhook-id` and body: the first within seconds, the rest steadily at the endpoint's share of the relay's " +
      "sends, by whichever replica's relay takes them (another replica learns of the request within about 10 s). " +
      'Each is sent once for the request, whichever replicas and operators ask at once; one that fails again ' +
      'follows its new schedule. A disabled endpoint is 409 `DELIVERY_ENDPOINT_DISABLED`: enable it first (a ' +
      "deleted one's deliveries cannot be sent again). Call it once the receiver answers again. No body (or `{}`). " +
      'Recorded in the audit log.',
    errors: {
      400: [CommonErrorCode.VALIDATION_FAILED, CommonErrorCode.INVALID_JSON],
      404: [WebhookErrorCode.WEBHOOK_ENDPOINT_NOT_FOUND],
      409: [PayoutErrorCode.DELIVERY_ENDPOINT_DISABLED],
    },
  })
  @ApiAcceptedResponse({ type: RetryFailedResponseDto })
  retryFailed(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: unknown,
    @CurrentUser() actor: AuthenticatedUser,
  ): Promise<RetryFailedResponseDto> {
    requireEmptyBody(body);
    return this.deliveries.retryFailed(id, actor);
  }
}
