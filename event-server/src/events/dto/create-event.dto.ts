import { IsIn, IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { APPROVAL_MODES, type ApprovalMode, EVENT_STATUSES, type EventStatus } from '../event.schema.js';

/** An instant with an explicit zone (Z or ±hh:mm): a bare local time would depend on the server's clock zone. */
export const INSTANT_WITH_ZONE = /(Z|[+-]\d{2}:?\d{2})$/;

export class CreateEventDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  title!: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @IsISO8601({ strict: true })
  @Matches(INSTANT_WITH_ZONE, { message: 'startAt must name its zone (Z or an offset)' })
  startAt!: string;

  @IsISO8601({ strict: true })
  @Matches(INSTANT_WITH_ZONE, { message: 'endAt must name its zone (Z or an offset)' })
  endAt!: string;

  @IsIn(EVENT_STATUSES)
  status!: EventStatus;

  @IsIn(APPROVAL_MODES)
  approval!: ApprovalMode;

  /** IANA zone deciding where a "day" starts; default Asia/Seoul. Checked by the service. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timezone?: string;

  /** The condition DSL; checked in depth by the condition validator, which names the exact path. */
  @IsObject()
  condition!: Record<string, unknown>;
}
