import { type ArgumentMetadata, type ValidationError, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { CommonErrorCode, DomainError } from './errors.js';

/**
 * A character that shows: not white space, not a control character (Cc), not a format character (zero-width
 * space and joiners, bidi marks, the BOM, soft hyphen: Unicode's Cf), not one that Unicode says renders as
 * nothing (Default_Ignorable_Code_Point: the Hangul fillers games see used for blank-looking names, variation
 * selectors, the combining grapheme joiner) and not the blank Braille pattern. A title, a name or a review
 * note must hold one: made only of such characters it shows as nothing in a list or in the audit log, as a
 * title of spaces would.
 */
export const VISIBLE_CHARACTER = /[^\s\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]/u;

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

/** A key that the transform drops without a word (see ParsedValueFacts.shadowed). */
function isShadowedKey(key: string): boolean {
  return key in Object.prototype || key === 'prototype';
}

/** An object's own entries as parsed, in order. */
type ParsedEntries = Array<[string, unknown]>;

/** The shadowed keys among an object's entries as parsed. */
export function shadowedKeysOf(entries: ParsedEntries): string[] {
  return entries.filter(([key]) => isShadowedKey(key)).map(([key]) => key);
}

/** What the pipe looks for in a value before the transform. */
export interface ParsedValueFacts {
  /** The path of the first `null`, in document order (looked for in bodies: no field of the API takes null). */
  nullPath?: string;
  /**
   * The objects that hold own keys the transform drops without a word, so that `forbidNonWhitelisted` never sees
   * them: class-transformer skips a key the new instance already answers with a function or getter (`toString`,
   * `valueOf`, `hasOwnProperty`, `__defineGetter__`, ... from Object.prototype) and `__proto__`/`constructor`;
   * Nest deletes `__proto__`, `constructor` and `prototype` before it (in place). Each such object is recorded
   * with its entries (`shadowedKeysOf` names its shadowed keys), so that a free-form field can be given back as
   * it was parsed (looked for in values validated against a DTO).
   */
  shadowed: Map<object, ParsedEntries>;
}

/**
 * One walk over a value before the transform (bounded: bodies are at most 32 levels deep), for the nulls, the
 * shadowed keys or both. It stops at the first null: the value is then refused, whatever else it holds.
 */
export function parsedValueFacts(value: unknown, find: { nulls: boolean; shadowed: boolean }): ParsedValueFacts {
  const shadowed = new Map<object, ParsedEntries>();
  const walk = (current: unknown, path: string): string | undefined => {
    if (typeof current !== 'object' || current === null || ArrayBuffer.isView(current)) return undefined;
    if (Array.isArray(current)) {
      for (let index = 0; index < current.length; index++) {
        const item: unknown = current[index];
        const at = `${path}[${index}]`;
        if (item === null && find.nulls) return at;
        const inner = walk(item, at);
        if (inner !== undefined) return inner;
      }
      return undefined;
    }
    let holdsShadowed = false;
    for (const [key, item] of Object.entries(current)) {
      if (find.shadowed && isShadowedKey(key)) holdsShadowed = true;
      const at = path ? `${path}.${key}` : key;
      if (item === null && find.nulls) return at;
      const inner = walk(item, at);
      if (inner !== undefined) return inner;
    }
    if (holdsShadowed) shadowed.set(current, Object.entries(current));
    return undefined;
  };
  const nullPath = find.nulls || find.shadowed ? walk(value, '') : undefined;
  return { ...(nullPath !== undefined && { nullPath }), shadowed };
}

/** An instance of a DTO class (not a plain object, array or built-in value such as a Date). */
function isDtoInstance(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype !== Object.prototype && prototype !== null;
}

/** A plain object, as JSON.parse and class-transformer make them. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function refusedKey(path: string): ValidationError {
  return { property: path, constraints: { prototypeKey: `${path} is not allowed` }, children: [] };
}

/**
 * Gives a free-form value back, in place, as it was parsed: the keys Nest deleted (`constructor`, `prototype`)
 * in their places. `__proto__` and `constructor.prototype` are refused, as Fastify's JSON parser refuses them.
 */
function restoreParsed(value: unknown, shadowed: Map<object, ParsedEntries>, path: string, errors: ValidationError[]): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    value.forEach((item: unknown, index) => restoreParsed(item, shadowed, `${path}.${index}`, errors));
    return;
  }
  const object = value as Record<string, unknown>;
  const entries = shadowed.get(object);
  if (entries) {
    for (const [key, item] of entries) {
      if (key === '__proto__') errors.push(refusedKey(`${path}.__proto__`));
      else if (key === 'constructor' && typeof item === 'object' && item !== null && Object.hasOwn(item, 'prototype')) {
        errors.push(refusedKey(`${path}.constructor.prototype`));
      }
    }
    for (const key of Object.keys(object)) delete object[key];
    // Defined, not assigned: an own data property whatever the key (no setter such as __proto__'s is called).
    for (const [key, item] of entries) {
      Object.defineProperty(object, key, { value: item, writable: true, enumerable: true, configurable: true });
    }
  }
  for (const [key, item] of Object.entries(object)) restoreParsed(item, shadowed, `${path}.${key}`, errors);
}

/**
 * Walks the DTO levels of `dto` alongside `plain`. The shadowed keys found at a DTO level are whitelist errors.
 * A free-form field (a plain object in the DTO, such as an activity's `attributes` or an event's `condition`)
 * is set to the value as parsed, keys named after Object.prototype members included, instead of
 * class-transformer's copy without them: its own validation then sees every key. This runs after class-validator,
 * so a rule on a free-form field's content belongs in the service (as the attribute and condition rules are),
 * and an `@Transform` on a free-form field would be undone here whenever the body holds such a key anywhere.
 */
function settleShadowedKeys(
  dto: Record<string, unknown>,
  plain: unknown,
  shadowed: Map<object, ParsedEntries>,
  path: string,
): ValidationError[] {
  if (typeof plain !== 'object' || plain === null) return [];
  const errors: ValidationError[] = shadowedKeysOf(shadowed.get(plain) ?? []).map((key) => ({
    property: path ? `${path}.${key}` : key,
    constraints: { whitelistValidation: `property ${key} should not exist` },
    children: [],
  }));
  const freeForm = (parsed: unknown, at: string): unknown => {
    restoreParsed(parsed, shadowed, at, errors);
    return parsed;
  };
  for (const key of Object.keys(dto)) {
    const child = dto[key];
    const plainChild = (plain as Record<string, unknown>)[key];
    const at = path ? `${path}.${key}` : key;
    if (isDtoInstance(child)) errors.push(...settleShadowedKeys(child, plainChild, shadowed, at));
    else if (Array.isArray(child) && Array.isArray(plainChild)) {
      child.forEach((item: unknown, index) => {
        const itemAt = `${at}.${index}`;
        if (isDtoInstance(item)) errors.push(...settleShadowedKeys(item, plainChild[index], shadowed, itemAt));
        else if (isPlainObject(item) && isPlainObject(plainChild[index])) child[index] = freeForm(plainChild[index], itemAt);
      });
    } else if (isPlainObject(child) && isPlainObject(plainChild)) dto[key] = freeForm(plainChild, at);
  }
  return errors;
}

/**
 * What is wrong with the top-level lists of a value that its DTO bounds (`@ArrayMaxSize`), told as class-validator
 * tells it: a list longer than its bound, and a list of nested DTOs (`@ValidateNested({ each: true })`) holding a
 * list in an element's place. Looked at before the transform: class-transformer and class-validator go through every
 * element of a list (and of a list in an element's place, which ValidateNested takes) before its length or its
 * elements' type is judged, so 99,000 empty objects (300 KB, within the body bounds) in `items` (at most 1000), or
 * in one list inside it, held the event loop for 3.5-5 s, every other request of the server waiting.
 */
export function listProblems(value: unknown, metatype: ArgumentMetadata['metatype']): string[] {
  if (!isPlainObject(value) || typeof metatype !== 'function') return [];
  const rules = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false);
  const nestedLists = new Set(
    rules.filter((rule) => rule.type === 'nestedValidation' && rule.each).map((rule) => rule.propertyName),
  );
  const problems: string[] = [];
  for (const rule of rules) {
    if (rule.name !== 'arrayMaxSize' || rule.each) continue;
    const list = value[rule.propertyName];
    const max = (rule.constraints as unknown[])[0];
    if (!Array.isArray(list) || typeof max !== 'number') continue;
    if (list.length > max) problems.push(`${rule.propertyName} must contain no more than ${max} elements`);
    else if (nestedLists.has(rule.propertyName) && list.some((element) => Array.isArray(element))) {
      problems.push(`${rule.propertyName}: each value in ${rule.propertyName} must be an object`);
    }
  }
  return problems;
}

class NullRefusingValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // One walk, for what this value needs: nulls in a body, shadowed keys in a value validated against a DTO.
    const { nullPath, shadowed } = parsedValueFacts(value, {
      nulls: metadata.type === 'body',
      shadowed: this.toValidate(metadata),
    });
    if (nullPath !== undefined) throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, [`${nullPath} must not be null`]);
    // Nest's pipe reads a body of `null` as `{}`: a PATCH of nothing would answer 200.
    if (value === null && metadata.type === 'body') {
      throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, ['the body must not be null']);
    }
    const lists = this.toValidate(metadata) ? listProblems(value, metadata.metatype) : [];
    if (lists.length > 0) throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, lists);
    const transformed = await super.transform(value, metadata);
    // Almost always empty: then the transformed value is not walked.
    if (shadowed.size > 0 && isDtoInstance(transformed)) {
      const errors = settleShadowedKeys(transformed, value, shadowed, '');
      if (errors.length > 0) throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, flatten(errors));
    }
    return transformed;
  }
}
