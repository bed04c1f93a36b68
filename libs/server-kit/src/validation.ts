import { type ArgumentMetadata, type ValidationError, ValidationPipe } from '@nestjs/common';
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

/** The path of the first `null` inside a parsed JSON body (bounded: bodies are at most 32 levels deep). */
export function nullPathOf(value: unknown, path = ''): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      const at = `${path}[${index}]`;
      if (item === null) return at;
      const inner = nullPathOf(item, at);
      if (inner !== undefined) return inner;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (item === null) return at;
    const inner = nullPathOf(item, at);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/**
 * Whitelist validation: unknown fields are a 400, never silently dropped; values are converted to
 * the DTO's types only where the DTO says so (query strings). No field of the API takes `null`: inside a
 * body it is a 400 (class-validator's IsOptional lets null through as if absent, so a PATCH with
 * `{"description": null}` answered 200 and changed nothing).
 */
export function createValidationPipe(): ValidationPipe {
  return new NullRefusingValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new DomainError(400, CommonErrorCode.VALIDATION_FAILED, flatten(errors)),
  });
}

class NullRefusingValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') {
      const path = nullPathOf(value);
      if (path !== undefined) throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, [`${path} must not be null`]);
    }
    return super.transform(value, metadata);
  }
}
