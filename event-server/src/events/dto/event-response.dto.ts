import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageResponseDto } from '@reward/server-kit/pagination';
import { CONDITION_PROPERTY } from '../../conditions/dto/condition.openapi.js';
import { RewardResponseDto } from '../../rewards/dto/reward-response.dto.js';
import { APPROVAL_MODES, EVENT_STATUSES } from '../event.schema.js';

export class EventResponseDto {
  @ApiProperty({ example: '665f1c2b9d3e4a0012345678' })
  id!: string;

  @ApiProperty({ example: '7-day login event' })
  title!: string;

  @ApiPropertyOptional()
  description?: string;

  @ApiProperty({ format: 'date-time' })
  startAt!: string;

  @ApiProperty({ format: 'date-time' })
  endAt!: string;

  @ApiProperty({ enum: EVENT_STATUSES, enumName: 'EventStatus' })
  status!: string;

  @ApiProperty({ enum: APPROVAL_MODES, enumName: 'ApprovalMode' })
  approval!: string;

  @ApiProperty({ example: 'Asia/Seoul' })
  timezone!: string;

  @ApiProperty(CONDITION_PROPERTY)
  condition!: unknown;

  @ApiProperty({ description: 'Id of the user who created the event' })
  createdBy!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

/** GET /events/{id}: the event with its rewards. */
export class EventDetailResponseDto extends EventResponseDto {
  @ApiProperty({ type: [RewardResponseDto] })
  rewards!: RewardResponseDto[];
}

export class EventPageResponseDto extends PageResponseDto {
  @ApiProperty({ type: [EventResponseDto] })
  items!: EventResponseDto[];
}
