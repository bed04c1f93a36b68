import { CommonErrorCode, DomainError } from './errors.js';

/**
 * Routes that take no body accept none or `{}`; any field is a 400 like everywhere else (whitelist
 * validation). A DTO class without fields cannot express this: class-validator refuses it as unknown.
 */
export function requireEmptyBody(body: unknown): void {
  if (body === undefined || body === null) return;
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, ['The body must be empty or {}']);
  }
  const fields = Object.keys(body);
  if (fields.length > 0) {
    throw new DomainError(
      400,
      CommonErrorCode.VALIDATION_FAILED,
      fields.map((field) => `property ${field} should not exist`),
    );
  }
}
