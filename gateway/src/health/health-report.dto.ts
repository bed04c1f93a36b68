import { ApiProperty } from '@nestjs/swagger';

export class ServiceStatesDto {
  @ApiProperty({ enum: ['up', 'down'], example: 'up' })
  auth!: string;

  @ApiProperty({ enum: ['up', 'down'], example: 'up' })
  event!: string;
}

export class HealthReportDto {
  @ApiProperty({ enum: ['ok'] })
  status!: string;

  @ApiProperty({ type: ServiceStatesDto })
  services!: ServiceStatesDto;
}

/** What /health's 503 adds to the error body: the state of each server. */
export class HealthFailureDto {
  @ApiProperty({ type: ServiceStatesDto, example: { auth: 'up', event: 'down' } })
  services!: ServiceStatesDto;
}
