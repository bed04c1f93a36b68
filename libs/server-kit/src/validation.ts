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

/**
 * Own keys that the transform drops without a word, so that `forbidNonWhitelisted` never sees them:
 * class-transformer skips a key the new instance already answers with a function or getter (`toString`,
 * `valueOf`, `hasOwnProperty`, `__defineGetter__`, ... from Object.prototype) and `__proto__`/`constructor`;
 * Nest deletes `__proto__`, `constructor` and `prototype` before it. Recorded per object before the transform.
 */
export function shadowedKeysOf(value: unknown): Map<object, string[]> {
  const found = new Map<object, string[]>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current !== 'object' || current === null || ArrayBuffer.isView(current)) continue;
    if (Array.isArray(current)) {
      for (const item of current as unknown[]) if (typeof item === 'object' && item !== null) stack.push(item);
      continue;
    }
    let shadowed: string[] | undefined;
    for (const key of Object.keys(current)) {
      if (key in Object.prototype || key === 'prototype') (shadowed ??= []).push(key);
      const item = (current as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) stack.push(item);
    }
    if (shadowed) found.set(current, shadowed);
  }
  return found;
}

/** An instance of a DTO class (not a plain object, array or built-in value such as a Date). */
function isDtoInstance(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype !== Object.prototype && prototype !== null;
}

/**
 * The shadowed keys of `plain` at the levels that became DTO instances in `dto`, as whitelist errors. Free-form
 * fields (plain objects in the DTO, such as an activity's `attributes`) are left to their own validation.
 */
function unknownShadowedKeys(
  dto: Record<string, unknown>,
  plain: unknown,
  shadowed: Map<object, string[]>,
  path: string,
): ValidationError[] {
  if (typeof plain !== 'object' || plain === null) return [];
  const errors: ValidationError[] = (shadowed.get(plain) ?? []).map((key) => ({
    property: path ? `${path}.${key}` : key,
    constraints: { whitelistValidation: `property ${key} should not exist` },
    children: [],
  }));
  for (const key of Object.keys(dto)) {
    const child = dto[key];
    const plainChild = (plain as Record<string, unknown>)[key];
    const at = path ? `${path}.${key}` : key;
    if (isDtoInstance(child)) errors.push(...unknownShadowedKeys(child, plainChild, shadowed, at));
    else if (Array.isArray(child) && Array.isArray(plainChild)) {
      child.forEach((item: unknown, index) => {
        if (isDtoInstance(item)) errors.push(...unknownShadowedKeys(item, plainChild[index], shadowed, `${at}.${index}`));
      });
    }
  }
  return errors;
}

class NullRefusingValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') {
      const path = nullPathOf(value);
      if (path !== undefined) throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, [`${path} must not be null`]);
    }
    // Only for values validated against a DTO. Almost always empty: then the transformed value is not walked.
    const shadowed = metadata.metatype && this.toValidate(metadata) ? shadowedKeysOf(value) : undefined;
    const transformed = await super.transform(value, metadata);
    if (shadowed && shadowed.size > 0 && isDtoInstance(transformed)) {
      const errors = unknownShadowedKeys(transformed, value, shadowed, '');
      if (errors.length > 0) throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, flatten(errors));
    }
    return transformed;
  }
}
