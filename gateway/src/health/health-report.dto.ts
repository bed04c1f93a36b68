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
