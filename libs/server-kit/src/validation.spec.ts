import type { ArgumentMetadata } from '@nestjs/common';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { DomainError } from './errors.js';
import { VISIBLE_CHARACTER, createValidationPipe, parsedValueFacts, shadowedKeysOf } from './validation.js';

class ItemDto {
  @IsString()
  type!: string;

  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;
}

class OwnerDto {
  @IsString()
  name!: string;
}

class BatchDto {
  @IsOptional()
  @IsString()
  note?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => OwnerDto)
  owner?: OwnerDto;

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ItemDto)
  items?: ItemDto[];
}

class QueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  page?: number;
}

const pipe = createValidationPipe();
const body: ArgumentMetadata = { type: 'body', metatype: BatchDto };

/** The body as Fastify's JSON parser gives it: `__proto__` and friends as own keys. */
const parsed = (json: string): unknown => JSON.parse(json) as unknown;

async function refusal(value: unknown, metadata: ArgumentMetadata = body): Promise<DomainError> {
  const error: unknown = await pipe.transform(value, metadata).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

const OBJECT_PROTOTYPE_KEYS = [
  'toString',
  'valueOf',
  'constructor',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupSetter__',
  '__proto__',
  'prototype',
];

describe('the validation pipe and keys named after Object.prototype members', () => {
  it.each(OBJECT_PROTOTYPE_KEYS)('refuses a top-level "%s" like any unknown field', async (key) => {
    const error = await refusal(parsed(`{"note":"n",${JSON.stringify(key)}:1}`));
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(error.messages).toEqual([`${key}: property ${key} should not exist`]);
  });

  it('refuses them inside a nested DTO object and inside each DTO of an array', async () => {
    const owner = await refusal(parsed('{"owner":{"name":"a","valueOf":"x"}}'));
    expect(owner.messages).toEqual(['owner.valueOf: property valueOf should not exist']);
    const items = await refusal(parsed('{"items":[{"type":"A"},{"type":"B","toString":1,"constructor":{}}]}'));
    expect(items).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(items.messages).toEqual(
      expect.arrayContaining([
        'items.1.toString: property toString should not exist',
        'items.1.constructor: property constructor should not exist',
      ]),
    );
  });

  it('refuses them in a query string (a null-prototype object, as Fastify parses it)', async () => {
    const query = Object.assign(Object.create(null) as Record<string, string>, { page: '2', toString: '1' });
    const error = await refusal(query, { type: 'query', metatype: QueryDto });
    expect(error.messages).toEqual(['toString: property toString should not exist']);
    const plain = Object.assign(Object.create(null) as Record<string, string>, { page: '2' });
    expect(await pipe.transform(plain, { type: 'query', metatype: QueryDto })).toEqual(
      Object.assign(new QueryDto(), { page: 2 }),
    );
  });

  it('gives a free-form field back as parsed, keys named after Object.prototype members included, in place', async () => {
    const attributes =
      '{"toString":"x","a":1,"constructor":"c","valueOf":{"hasOwnProperty":1,"prototype":[{"isPrototypeOf":2}]},' +
      '"b":{"constructor":{"c":3}}}';
    const value = parsed(`{"note":"n","owner":{"name":"a"},"items":[{"type":"A","attributes":${attributes}},{"type":"B"}]}`);
    const result = (await pipe.transform(value, body)) as BatchDto;
    expect(result).toBeInstanceOf(BatchDto);
    expect(result.owner).toBeInstanceOf(OwnerDto);
    expect(result.items?.[0]).toBeInstanceOf(ItemDto);
    expect(JSON.stringify(result.items?.[0]?.attributes)).toBe(attributes);
    expect(Object.getPrototypeOf(result.items?.[0]?.attributes)).toBe(Object.prototype);
    expect(JSON.stringify(result)).toBe(
      `{"note":"n","owner":{"name":"a"},"items":[{"type":"A","attributes":${attributes}},{"type":"B"}]}`,
    );
  });

  it('refuses __proto__ and constructor.prototype inside a free-form field, naming them', async () => {
    const proto = await refusal(parsed('{"items":[{"type":"A","attributes":{"a":[{"__proto__":{"admin":true}}]}}]}'));
    expect(proto).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(proto.messages).toEqual(['items.0.attributes.a.0.__proto__ is not allowed']);
    const constructor = await refusal(parsed('{"items":[{"type":"A","attributes":{"constructor":{"prototype":{}}}}]}'));
    expect(constructor.messages).toEqual(['items.0.attributes.constructor.prototype is not allowed']);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('keeps refusing ordinary unknown fields and accepting known ones', async () => {
    expect((await refusal(parsed('{"note":"n","foo":1}'))).messages).toEqual(['foo: property foo should not exist']);
    const result = await pipe.transform(parsed('{"note":"n","owner":{"name":"a"},"items":[{"type":"A"}]}'), body);
    expect(result).toMatchObject({ note: 'n', owner: { name: 'a' }, items: [{ type: 'A' }] });
  });
});

describe('the validation pipe and null', () => {
  it.each([
    ['{"note":null}', 'note'],
    ['{"owner":{"name":null}}', 'owner.name'],
    ['{"items":[{"type":"A"},{"type":"B","attributes":{"a":[1,null]}}]}', 'items[1].attributes.a[1]'],
    // The first null in document order, before any later one and before a shadowed key after it.
    ['{"items":[{"type":"A","attributes":{"x":{"y":null},"z":null}}],"note":null,"toString":1}', 'items[0].attributes.x.y'],
    ['{"toString":1,"owner":{"valueOf":2,"name":null}}', 'owner.name'],
  ])('refuses %s, naming %s', async (json, path) => {
    const error = await refusal(parsed(json));
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(error.messages).toEqual([`${path} must not be null`]);
  });

  it('refuses a body that is null itself, which would otherwise be read as an empty object (a PATCH that does nothing)', async () => {
    const error = await refusal(null);
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(error.messages).toEqual(['the body must not be null']);
    expect((await refusal(null, { type: 'body', metatype: Object })).messages).toEqual(['the body must not be null']);
  });

  it('refuses a null in a body that no DTO describes, and lets one through in a query', async () => {
    const error = await refusal(parsed('{"a":[{"b":null}]}'), { type: 'body', metatype: Object });
    expect(error.messages).toEqual(['a[0].b must not be null']);
    const query = { page: null };
    expect(await pipe.transform(query, { type: 'query', metatype: Object })).toBe(query);
  });
});

class BoundedDto {
  @IsArray()
  @ArrayMaxSize(3)
  @ValidateNested({ each: true })
  @Type(() => ItemDto)
  items!: ItemDto[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(2)
  @IsIn(['A', 'B'], { each: true })
  tags?: string[];
}

describe('the validation pipe and arrays longer than their DTO allows', () => {
  const bounded: ArgumentMetadata = { type: 'body', metatype: BoundedDto };

  // 100,000 empty objects (300 KB) in a list of at most 1000 held an event server's event loop for 5 s while
  // every element was transformed and validated (about 2 s for a list of 4 roles); only the length is told.
  it('refuses one at once, naming its bound, without transforming or validating its elements', async () => {
    const error = await refusal({ items: Array.from({ length: 50_000 }, () => ({})) }, bounded);
    expect(error.status).toBe(400);
    expect(error.messages).toEqual(['items must contain no more than 3 elements']);
    const both = await refusal({ items: [{}, {}, {}, {}], tags: [{}, {}, {}] }, bounded);
    expect(both.messages).toEqual(['items must contain no more than 3 elements', 'tags must contain no more than 2 elements']);
  });

  it("refuses a list of DTOs holding a list in an element's place at once, the inner list not gone through", async () => {
    const error = await refusal({ items: [Array.from({ length: 50_000 }, () => ({}))] }, bounded);
    expect(error.messages).toEqual(['items: each value in items must be an object']);
  });

  it('validates a list within its bound element by element, as before', async () => {
    const error = await refusal({ items: [{ type: 'A' }, {}], tags: ['A', 'C'] }, bounded);
    expect(error.messages).toEqual([
      'items.1.type must be a string',
      'tags: each value in tags must be one of the following values: A, B',
    ]);
    await expect(pipe.transform({ items: [{ type: 'A' }], tags: ['B'] }, bounded)).resolves.toBeInstanceOf(BoundedDto);
  });
});

describe('parsedValueFacts', () => {
  it('finds nothing in an ordinary body, so the transformed value is not walked', () => {
    const items = Array.from({ length: 1000 }, (_, index) => ({
      type: 'LOGIN',
      attributes: { n: index },
      externalId: `x-${index}`,
    }));
    expect(parsedValueFacts({ items }, { nulls: true, shadowed: true })).toEqual({ shadowed: new Map() });
  });

  it('records the own keys that the transform would drop, per object, with its entries as parsed', () => {
    const inner = parsed('{"__proto__":{"a":1},"name":"x"}') as object;
    const found = parsedValueFacts({ list: [inner], toString: 1, valueOfX: 2 }, { nulls: true, shadowed: true }).shadowed;
    expect([...found.values()].map(shadowedKeysOf)).toEqual(expect.arrayContaining([['toString'], ['__proto__']]));
    expect(shadowedKeysOf(found.get(inner) ?? [])).toEqual(['__proto__']);
    expect(found.get(inner)).toEqual([
      ['__proto__', { a: 1 }],
      ['name', 'x'],
    ]);
  });

  it('looks only for what it is asked, in one walk that stops at the first null', () => {
    const value = parsed('{"a":{"valueOf":1},"b":[{"c":null}],"toString":2}') as Record<string, unknown>;
    const both = parsedValueFacts(value, { nulls: true, shadowed: true });
    expect(both.nullPath).toBe('b[0].c');
    expect([...both.shadowed.keys()]).toEqual([value.a]);
    const shadowedOnly = parsedValueFacts(value, { nulls: false, shadowed: true });
    expect(shadowedOnly.nullPath).toBeUndefined();
    expect([...shadowedOnly.shadowed.values()].map(shadowedKeysOf)).toEqual([['valueOf'], ['toString']]);
    expect(parsedValueFacts(value, { nulls: true, shadowed: false })).toEqual({ nullPath: 'b[0].c', shadowed: new Map() });
  });
});

describe('VISIBLE_CHARACTER', () => {
  it('is not found in text that shows as nothing: controls, variation selectors, the grapheme joiner, other ignorables', () => {
    for (const blank of [
      ' \t ',
      '\u200b',
      '\u200d\u3164 ',
      '\u115f\u1160\uffa0\u2800',
      '\u0001\u0085',
      '\ufe0f\ufe0f',
      '\u034f',
      '\u17b4\u180b',
      '\u2065',
      '\u{e0100}',
    ]) {
      expect(VISIBLE_CHARACTER.test(blank), JSON.stringify(blank)).toBe(false);
    }
  });

  it('is found in text that shows, emoji sequences and combining marks included', () => {
    for (const shown of ['a', '한', '😀', '\u{1f3f3}\ufe0f\u200d\u{1f308}', 'e\u0301', '\u200b7-day']) {
      expect(VISIBLE_CHARACTER.test(shown), JSON.stringify(shown)).toBe(true);
    }
  });
});
