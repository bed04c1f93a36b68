import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/**
 * A query parameter that is a whole number written in decimal digits, as a number; anything else is left
 * as it came, for IsInt to refuse (`Number()` would take `0x10`, `1e2`, ` 5` and `` as numbers).
 */
export function decimalInteger({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
}

/** `page` (from 1) and `limit` (1..100, default 20), as API.md fixes them for every list. */
export class PaginationQueryDto {
  @IsOptional()
  @Transform(decimalInteger)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  @IsOptional()
  @Transform(decimalInteger)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
}

/** The fields every list response has besides its `items`; each list's response DTO adds those, typed. */
export abstract class PageResponseDto {
  @ApiProperty({ type: 'integer', example: 1 })
  page!: number;

  @ApiProperty({ type: 'integer', example: 20 })
  limit!: number;

  @ApiProperty({ type: 'integer', example: 1 })
  total!: number;
}

export interface Page<T> {
  items: T[];
  page: number;
  limit: number;
  total: number;
}

export function skipOf(query: { page: number; limit: number }): number {
  return (query.page - 1) * query.limit;
}
