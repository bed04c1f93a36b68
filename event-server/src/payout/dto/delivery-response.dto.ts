import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageResponseDto } from '@reward/server-kit/pagination';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/webhook-events.js';
import { DELIVERY_STATUSES } from '../payout.rules.js';

export class DeliveryAttemptResponseDto {
  @ApiProperty({ type: 'integer', example: 1 })
  attempt!: number;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiPropertyOptional({ type: 'integer', example: 200, description: "The receiver's status code (absent: no answer)" })
  statusCode?: number;

  @ApiProperty({ type: 'integer', example: 12, description: 'Milliseconds from sending to the answer (or the failure)' })
  latencyMs!: number;

  @ApiPropertyOptional({ example: 'the receiver answered 503' })
  error?: string;
}

export class DeliveryResponseDto {
  @ApiProperty({ example: '665f1c2b9d3e4a00123456bb' })
  id!: string;

  @ApiProperty({ example: '665f1c2b9d3e4a001234567a' })
  claimId!: string;

  @ApiProperty({ example: '665f1c2b9d3e4a00123456aa' })
  endpointId!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, enumName: 'WebhookEventType' })
  type!: string;

  @ApiProperty({ description: 'The `webhook-id` header, the same on every attempt (the receiver dedupes by it)' })
  webhookId!: string;

  @ApiProperty({ enum: DELIVERY_STATUSES, enumName: 'DeliveryStatus' })
  status!: string;

  @ApiProperty({ type: 'integer' })
  attempts!: number;

  @ApiPropertyOptional({ format: 'date-time', description: 'When the next attempt is due (PENDING only)' })
  nextAttemptAt?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  lastAttemptAt?: string;

  @ApiPropertyOptional({ type: 'integer' })
  lastStatusCode?: number;

  @ApiPropertyOptional({ type: 'integer' })
  lastLatencyMs?: number;

  @ApiPropertyOptional()
  lastError?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  deliveredAt?: string;

  @ApiProperty({ type: [DeliveryAttemptResponseDto], description: 'Every attempt, oldest first' })
  attemptLog!: DeliveryAttemptResponseDto[];

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export class DeliveryPageResponseDto extends PageResponseDto {
  @ApiProperty({ type: [DeliveryResponseDto] })
  items!: DeliveryResponseDto[];
}

export class SendPendingResponseDto {
  @ApiProperty({ example: '665f1c2b9d3e4a00123456aa' })
  endpointId!: string;

  @ApiProperty({ format: 'date-time', description: 'Deliveries last attempted before this time are sent now' })
  requestedAt!: string;

  @ApiProperty({
    type: 'integer',
    example: 42,
    description:
      "The endpoint's PENDING deliveries when the request was made (those never attempted are due anyway), counted up to 10,000 (10,000 means at least that many)",
  })
  pending!: number;
}

export class RetryFailedResponseDto {
  @ApiProperty({ example: '665f1c2b9d3e4a00123456aa' })
  endpointId!: string;

  @ApiProperty({ format: 'date-time', description: 'FAILED deliveries last attempted before this time are sent again' })
  requestedAt!: string;

  @ApiProperty({
    type: 'integer',
    example: 120,
    description:
      "The endpoint's FAILED deliveries when the request was made, counted up to 10,000 (10,000 means at least that many)",
  })
  failed!: number;
}
