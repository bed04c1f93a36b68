import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageResponseDto } from '@reward/server-kit/pagination';
import { WEBHOOK_EVENT_TYPES } from '../webhook-events.js';

export class WebhookEndpointResponseDto {
  @ApiProperty({ example: '665f1c2b9d3e4a00123456aa' })
  id!: string;

  @ApiProperty({ example: 'https://game.example.com/hooks/rewards' })
  url!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, enumName: 'WebhookEventType', isArray: true })
  events!: string[];

  @ApiPropertyOptional()
  description?: string;

  @ApiProperty()
  enabled!: boolean;

  @ApiPropertyOptional({ description: 'Why it stopped receiving, e.g. "the receiver answered 410 Gone"' })
  disabledReason?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'After a rotation: until then every request also carries a signature with the previous secret',
  })
  previousSecretExpiresAt?: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

export class WebhookEndpointWithSecretResponseDto extends WebhookEndpointResponseDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The signing secret (Standard Webhooks `whsec_` form). Shown only here: store it now.',
  })
  secret!: string;
}

export class WebhookEndpointPageResponseDto extends PageResponseDto {
  @ApiProperty({ type: [WebhookEndpointResponseDto] })
  items!: WebhookEndpointResponseDto[];
}
