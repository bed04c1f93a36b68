import { Injectable, type PipeTransform } from '@nestjs/common';
import { CommonErrorCode, DomainError } from './errors.js';

const OBJECT_ID = /^[0-9a-f]{24}$/i;

export function isObjectId(value: unknown): value is string {
  return typeof value === 'string' && OBJECT_ID.test(value);
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
