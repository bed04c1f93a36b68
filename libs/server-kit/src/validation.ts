import { type ValidationError, ValidationPipe } from '@nestjs/common';
import { CommonErrorCode, DomainError } from './errors.js';

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) =>
      // class-validator names the bare property; name the full path instead.
      text.startsWith(`${error.property} `) ? `${path}${text.slice(error.property.length)}` : `${path}: ${text}`,
    );
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/**
 * Whitelist validation: unknown fields are a 400, never silently dropped; values are converted to
 * the DTO's types only where the DTO says so (query strings).
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new DomainError(400, CommonErrorCode.VALIDATION_FAILED, flatten(errors)),
  });
}
