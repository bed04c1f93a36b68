import { Injectable, type PipeTransform } from '@nestjs/common';
import { CommonErrorCode, DomainError } from './errors.js';

/** A MongoDB ObjectId as text: what every id in the API looks like. */
export const OBJECT_ID_PATTERN = /^[0-9a-f]{24}$/i;
/** The same pattern as OpenAPI writes it (JSON Schema patterns have no flags). */
export const OBJECT_ID_SCHEMA_PATTERN = '^[0-9a-fA-F]{24}$';

export function isObjectId(value: unknown): value is string {
  return typeof value === 'string' && OBJECT_ID_PATTERN.test(value);
}

/** Malformed ids are the caller's mistake: 400 INVALID_ID, before any query runs. */
@Injectable()
export class ParseObjectIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (!isObjectId(value)) {
      throw new DomainError(400, CommonErrorCode.INVALID_ID, `"${String(value).slice(0, 64)}" is not a valid id`);
    }
    return value.toLowerCase();
  }
}
