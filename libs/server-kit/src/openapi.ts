import type { INestApplication, Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiQuery, type OpenAPIObject } from '@nestjs/swagger';
import { Public, Roles } from './auth.guards.js';
import { ClientErrorCode } from './client-error.js';
import { NOT_JSON_BODY_MESSAGE } from './error-mapping.js';
import { CommonErrorCode, MAX_LISTED_PROBLEMS, statusText } from './errors.js';
import { MAX_JSON_DEPTH, MAX_JSON_OBJECT_KEYS } from './json-depth.js';
import { OBJECT_ID_SCHEMA_PATTERN, ParseObjectIdPipe } from './object-id.pipe.js';
import { ROLES, Role, requiresRolesMessage } from './roles.js';

/**
 * OpenAPI helpers shared by the servers and the gateway. Controllers state what only they know (the
 * operationId, a summary, the domain error codes their services throw); everything the framework decides
 * (bearer security and roles from the same @Public/@Roles metadata the guards read, 400 for validation,
 * malformed JSON and malformed ids, 401/403) is derived here, so the document cannot drift from the guards.
 */

export const ERROR_BODY_SCHEMA_NAME = 'ErrorBody';
export const BEARER_SCHEME = 'bearer';
const ENDPOINT_METADATA = 'openapi:endpoint';

/** Statuses and the `code` values a route's services can answer with (the shared error body). */
export type ErrorCodes = Partial<Record<number, readonly string[]>>;

export interface EndpointDoc {
  /** Stable and readable: it becomes the SDK method name. */
  operationId: string;
  summary: string;
  description?: string;
  /** Domain errors the route's services throw; the framework's own (400, 401, 403) are added. */
  errors?: ErrorCodes;
  /** Per status: a schema whose fields some of that status's bodies carry besides the error body. */
  errorExtras?: Partial<Record<number, { schema: string; description: string }>>;
}

/** Names a route in the OpenAPI document and lists the domain errors it can answer with. */
export function ApiEndpoint(doc: EndpointDoc): MethodDecorator {
  const operation = ApiOperation({
    operationId: doc.operationId,
    summary: doc.summary,
    ...(doc.description !== undefined && { description: doc.description }),
  });
  return (target, key, descriptor) => {
    operation(target, key, descriptor);
    Reflect.defineMetadata(ENDPOINT_METADATA, doc, descriptor.value as object);
    return descriptor;
  };
}

/** `page` and `limit` of PaginationQueryDto (which carries no OpenAPI metadata of its own). */
export function ApiPageQuery(): MethodDecorator {
  return applyDecorators(
    ApiQuery({ name: 'page', required: false, schema: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 } }),
    ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } }),
  );
}

/** The error body of API.md, as every server and the gateway send it. */
export const ERROR_BODY_SCHEMA = {
  type: 'object',
  description: 'The error body every server and the gateway answer with',
  required: ['statusCode', 'error', 'message', 'code'],
  properties: {
    statusCode: { type: 'integer', example: 400 },
    error: { type: 'string', example: 'Bad Request' },
    message: {
      description: `What is wrong; for validation errors a list of messages: at most ${MAX_LISTED_PROBLEMS}, then one line counting the rest`,
      oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    },
    code: { type: 'string', description: 'Machine-readable error code', example: CommonErrorCode.VALIDATION_FAILED },
    retryAfterSeconds: {
      type: 'integer',
      minimum: 0,
      description:
        "On answers that say when to come back (429, 503, a claim's 409 IDEMPOTENCY_IN_PROGRESS): the same seconds as the Retry-After header",
    },
  },
} as const;

type JsonObject = Record<string, unknown>;
interface Operation extends JsonObject {
  operationId?: string;
  description?: string;
  parameters?: Array<{ in: string; name: string; schema?: JsonObject }>;
  requestBody?: unknown;
  responses: Record<string, JsonObject>;
  security?: Array<Record<string, string[]>>;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const PUBLIC_KEY = (Public() as unknown as { KEY: string }).KEY;
const ROLES_KEY = (Roles() as unknown as { KEY: string }).KEY;

const SUCCESS_TEXT: Record<string, string> = { '200': 'OK', '201': 'Created', '204': 'No content' };
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Missing, invalid or expired bearer token',
  403: 'The caller lacks a required role',
  404: 'Not found',
  405: 'Method not allowed on this path (the Allow header lists those it takes)',
  408: 'The request took too long to arrive',
  409: 'Conflict',
  413: 'Body larger than 1 MB',
  414: 'A path segment longer than 100 characters',
  415: 'Unsupported body media type',
  417: 'An Expect header other than 100-continue',
  422: 'Unprocessable',
  429: 'Too many requests',
  431: 'Request headers too large',
  502: 'The upstream server failed to answer',
  503: 'Service unavailable, try again',
  504: 'The upstream server did not answer in time',
};

interface Handler {
  doc: EndpointDoc;
  access: 'public' | readonly Role[];
  objectIdParams: string[];
}

function metadataOf<T>(key: string, handler: object, controller: object): T | undefined {
  return (Reflect.getMetadata(key, handler) as T | undefined) ?? (Reflect.getMetadata(key, controller) as T | undefined);
}

/** Path parameters that go through ParseObjectIdPipe (a malformed one is a 400 INVALID_ID). */
function objectIdParamsOf(controller: Type, methodName: string): string[] {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, methodName) ?? {}) as Record<
    string,
    { data?: unknown; pipes?: unknown[] }
  >;
  return Object.values(args)
    .filter((arg) => typeof arg.data === 'string' && (arg.pipes ?? []).includes(ParseObjectIdPipe))
    .map((arg) => arg.data as string);
}

/** Every route handler documented with @ApiEndpoint, by operationId. */
function documentedHandlers(app: INestApplication): Map<string, Handler> {
  const handlers = new Map<string, Handler>();
  for (const module of app.get(ModulesContainer, { strict: false }).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller) continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const method = prototype[name];
        if (name === 'constructor' || typeof method !== 'function') continue;
        const doc = Reflect.getMetadata(ENDPOINT_METADATA, method) as EndpointDoc | undefined;
        if (!doc) continue;
        if (handlers.has(doc.operationId)) throw new Error(`operationId ${doc.operationId} is used twice`);
        const isPublic = metadataOf<boolean>(PUBLIC_KEY, method, controller) === true;
        const roles = metadataOf<Role[]>(ROLES_KEY, method, controller) ?? [];
        handlers.set(doc.operationId, {
          doc,
          access: isPublic ? 'public' : roles,
          objectIdParams: objectIdParamsOf(controller, name),
        });
      }
    }
  }
  return handlers;
}

/** The roles that pass the guard: the listed ones and ADMIN, or every role when none is listed. */
export function rolesAllowed(required: readonly Role[]): Role[] {
  if (required.length === 0) return [...ROLES];
  return ROLES.filter((role) => role === Role.ADMIN || required.includes(role));
}

/** What the servers really say for the codes they all share (a domain code's example reads its name). */
const SAMPLE_MESSAGES: Record<string, string | string[]> = {
  [CommonErrorCode.VALIDATION_FAILED]: ['email must be an email'],
  [CommonErrorCode.INVALID_JSON]: 'Body is not valid JSON',
  [CommonErrorCode.JSON_TOO_DEEP]: `JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`,
  [CommonErrorCode.JSON_TOO_MANY_VALUES]: `A JSON object in the body holds more than ${MAX_JSON_OBJECT_KEYS} fields`,
  [CommonErrorCode.UNSUPPORTED_MEDIA_TYPE]: NOT_JSON_BODY_MESSAGE,
  [CommonErrorCode.PAYLOAD_TOO_LARGE]: 'Request body is larger than the limit',
  [CommonErrorCode.INVALID_ID]: '"42" is not a valid id',
  [CommonErrorCode.UNAUTHORIZED]: 'Missing or invalid bearer token',
  [CommonErrorCode.FORBIDDEN]: 'Requires one of the roles: OPERATOR, ADMIN',
  [CommonErrorCode.TOO_MANY_REQUESTS]: 'Too many requests; try again in 1 s',
  [CommonErrorCode.SERVICE_UNAVAILABLE]: 'Service unavailable, try again',
  [CommonErrorCode.URI_TOO_LONG]: 'A part of the path is too long',
  [ClientErrorCode.MALFORMED_REQUEST]: 'The request is not valid HTTP',
  [ClientErrorCode.REQUEST_TIMEOUT]: 'The request took too long to arrive',
  [ClientErrorCode.EXPECTATION_FAILED]: 'Only the expectation 100-continue is supported (the Expect header)',
  [ClientErrorCode.HEADERS_TOO_LARGE]: 'Request headers are too large',
};

function sampleMessage(code: string, messages: Record<string, string>): string | string[] {
  const known = messages[code] ?? SAMPLE_MESSAGES[code];
  if (known !== undefined) return known;
  const words = code.toLowerCase().split('_').join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** One named example per code, each that status's own body (Swagger UI offers them in a list). */
export function errorExamples(
  status: number,
  codes: readonly string[],
  messages: Record<string, string> = {},
): Record<string, { summary: string; value: JsonObject }> {
  return Object.fromEntries(
    codes.map((code) => [
      code,
      { summary: code, value: { statusCode: status, error: statusText(status), message: sampleMessage(code, messages), code } },
    ]),
  );
}

/** The answers that say when to come back: both the header and `retryAfterSeconds` in the body (docs/api-rules.md). */
const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);
const RETRY_AFTER_HEADER = {
  'Retry-After': {
    description: 'Seconds to wait before sending again (the same as `retryAfterSeconds` in the body)',
    required: true,
    schema: { type: 'integer', minimum: 0, example: 1 },
  },
};

/** An example's body as a status that says when to come back has it: with `retryAfterSeconds`. */
function withRetryAfter(
  examples: Record<string, { summary: string; value: JsonObject }>,
): Record<string, { summary: string; value: JsonObject }> {
  return Object.fromEntries(
    Object.entries(examples).map(([code, example]) => [code, { ...example, value: { ...example.value, retryAfterSeconds: 1 } }]),
  );
}

function errorResponse(
  status: number,
  codes: readonly string[],
  extra?: { schema: string; description: string },
  messages: Record<string, string> = {},
): JsonObject {
  const sorted = [...new Set(codes)].sort();
  // A 429 or 503 always says when to come back, except one with fields of its own (the gateway's readiness
  // report, GET /health, which probes read and which carries no wait).
  const saysWhen = RETRY_AFTER_STATUSES.has(status) && !extra;
  const errorSchema = {
    allOf: [
      { $ref: `#/components/schemas/${ERROR_BODY_SCHEMA_NAME}` },
      {
        type: 'object',
        ...(saysWhen && { required: ['retryAfterSeconds'] }),
        properties: { statusCode: { type: 'integer', enum: [status] }, code: { type: 'string', enum: sorted } },
      },
    ],
  };
  const schema = extra
    ? { anyOf: [{ allOf: [...errorSchema.allOf, { $ref: `#/components/schemas/${extra.schema}` }] }, errorSchema] }
    : errorSchema;
  const description = `${STATUS_TEXT[status] ?? 'Error'}: ${sorted.join(', ')}${extra ? `. ${extra.description}` : ''}`;
  const examples = errorExamples(status, sorted, messages);
  return {
    description,
    ...(saysWhen && { headers: RETRY_AFTER_HEADER }),
    content: { 'application/json': { schema, examples: saysWhen ? withRetryAfter(examples) : examples } },
  };
}

/** A response header as OpenAPI states it. */
export interface ResponseHeaderDoc {
  description: string;
  schema: JsonObject;
}

/**
 * Adds `codes` to an operation's error response for `status` (made as completeOpenApi makes it), or that
 * response when it has none: for answers given in front of the server that documented the operation (the
 * gateway's). The codes already there keep their examples, and a status's extra fields stay as they were.
 */
export function addErrorCodes(
  operation: { responses: Record<string, unknown> },
  status: number,
  codes: readonly string[],
  options: { messages?: Record<string, string>; headers?: Record<string, ResponseHeaderDoc> } = {},
): void {
  const key = String(status);
  const existing = operation.responses[key] as JsonObject | undefined;
  if (!existing) {
    operation.responses[key] = errorResponse(status, codes, undefined, options.messages);
  } else {
    const media = (existing.content as Record<string, JsonObject> | undefined)?.['application/json'];
    const examples = media?.examples as Record<string, unknown> | undefined;
    if (!media || !examples) throw new Error(`response ${key} is not an error response made by completeOpenApi`);
    const before = Object.keys(examples).sort();
    const after = [...new Set([...before, ...codes])].sort();
    const describedCodes = `: ${before.join(', ')}`;
    if (typeof existing.description !== 'string' || !existing.description.includes(describedCodes)) {
      throw new Error(`response ${key} does not list its codes in its description`);
    }
    existing.description = existing.description.replace(describedCodes, `: ${after.join(', ')}`);
    // Every `code` enum of the schema (both branches when some bodies carry extra fields).
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(visit);
      if (typeof node !== 'object' || node === null) return;
      const properties = (node as JsonObject).properties as { code?: { enum?: string[] } } | undefined;
      if (properties?.code?.enum) properties.code.enum = after;
      Object.values(node).forEach(visit);
    };
    visit(media.schema);
    const added = after.filter((code) => !before.includes(code));
    const addedExamples = errorExamples(status, added, options.messages);
    const saysWhen = (existing.headers as JsonObject | undefined)?.['Retry-After'] !== undefined;
    media.examples = Object.fromEntries(
      Object.entries({ ...examples, ...(saysWhen ? withRetryAfter(addedExamples) : addedExamples) }).sort(([a], [b]) =>
        a.localeCompare(b),
      ),
    );
  }
  if (options.headers) {
    const response = operation.responses[key] as JsonObject;
    response.headers = { ...(response.headers as JsonObject | undefined), ...options.headers };
  }
}

/**
 * Request bodies as a person would send them, by operationId: Swagger UI's "Try it out" starts from
 * these instead of a sample assembled from every optional field (which the server may refuse).
 */
export function setRequestExamples(document: OpenAPIObject, examples: Record<string, unknown>): void {
  const unused = new Set(Object.keys(examples));
  for (const item of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = (item as Record<string, Operation | undefined>)[method];
      const id = operation?.operationId;
      if (id === undefined || !(id in examples)) continue;
      const media = (operation?.requestBody as { content?: Record<string, JsonObject> } | undefined)?.content?.[
        'application/json'
      ];
      if (!media) throw new Error(`${id} has no JSON request body to give an example to`);
      media.example = examples[id];
      unused.delete(id);
    }
  }
  if (unused.size > 0) throw new Error(`request examples for unknown operations: ${[...unused].join(', ')}`);
}

function addCodes(errors: Map<number, Set<string>>, status: number, ...codes: string[]): void {
  const set = errors.get(status) ?? new Set<string>();
  codes.forEach((code) => set.add(code));
  errors.set(status, set);
}

/** What a server adds to every operation it documents. */
export interface OpenApiOptions {
  /** 401 codes every authenticated route of the server may answer besides UNAUTHORIZED (a check they all share). */
  unauthorizedCodes?: readonly string[];
}

/** Methods whose body Fastify reads (bounded, JSON only), whether or not the route takes one. */
const BODY_METHODS = ['post', 'put', 'patch', 'delete'];

function complete(operation: Operation, handler: Handler, method: string, options: OpenApiOptions): void {
  const errors = new Map<number, Set<string>>();
  // Any URL spelling the NUL character (%00) is refused (createHttpApp).
  addCodes(errors, 400, CommonErrorCode.VALIDATION_FAILED);
  // Requests Node's parser refuses, answered before any route (rawAnswers in createHttpApp).
  addCodes(errors, 400, ClientErrorCode.MALFORMED_REQUEST);
  addCodes(errors, 408, ClientErrorCode.REQUEST_TIMEOUT);
  addCodes(errors, 417, ClientErrorCode.EXPECTATION_FAILED);
  addCodes(errors, 431, ClientErrorCode.HEADERS_TOO_LARGE);
  // Not worked on now, before the body is read (refuseForNow): the server is closing, or the request declares a
  // body larger than 16 KB while the budget of large bodies in flight is spent (limitBodiesInFlight); a server
  // with a store also answers it while the store is unavailable.
  addCodes(errors, 503, CommonErrorCode.SERVICE_UNAVAILABLE);
  // A body is read (and bounded, and must be JSON) on every POST, PUT, PATCH and DELETE, one the route ignores too.
  if (operation.requestBody !== undefined || BODY_METHODS.includes(method)) {
    // Its shape is checked as it arrives (guardJsonDepth, on every server): deeper than the bound is JSON_TOO_DEEP,
    // more values in all or more fields in one object than the bounds is JSON_TOO_MANY_VALUES.
    addCodes(
      errors,
      400,
      CommonErrorCode.VALIDATION_FAILED,
      CommonErrorCode.INVALID_JSON,
      CommonErrorCode.JSON_TOO_DEEP,
      CommonErrorCode.JSON_TOO_MANY_VALUES,
    );
    addCodes(errors, 413, CommonErrorCode.PAYLOAD_TOO_LARGE);
    addCodes(errors, 415, CommonErrorCode.UNSUPPORTED_MEDIA_TYPE);
  }
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in === 'query' || parameter.in === 'header') addCodes(errors, 400, CommonErrorCode.VALIDATION_FAILED);
    // The router refuses a path parameter longer than 100 characters (find-my-way's maxParamLength).
    if (parameter.in === 'path') addCodes(errors, 414, CommonErrorCode.URI_TOO_LONG);
    if (parameter.in === 'path' && handler.objectIdParams.includes(parameter.name)) {
      parameter.schema = { type: 'string', pattern: OBJECT_ID_SCHEMA_PATTERN, example: '665f1c2b9d3e4a0012345678' };
      addCodes(errors, 400, CommonErrorCode.INVALID_ID);
    }
  }
  const roleLine =
    handler.access === 'public'
      ? 'Access: public (no token).'
      : handler.access.length === 0
        ? `Access: any authenticated user (${ROLES.join(', ')}).`
        : `Access: roles ${rolesAllowed(handler.access).join(', ')}.`;
  operation.description = operation.description ? `${operation.description}\n\n${roleLine}` : roleLine;
  if (handler.access === 'public') {
    delete operation.security;
  } else {
    operation.security = [{ [BEARER_SCHEME]: [] }];
    operation['x-roles'] = rolesAllowed(handler.access);
    addCodes(errors, 401, CommonErrorCode.UNAUTHORIZED, ...(options.unauthorizedCodes ?? []));
    if (handler.access.length > 0) addCodes(errors, 403, CommonErrorCode.FORBIDDEN);
  }
  for (const [status, codes] of Object.entries(handler.doc.errors ?? {})) addCodes(errors, Number(status), ...(codes ?? []));
  for (const [status, response] of Object.entries(operation.responses)) {
    if (!response.description) response.description = SUCCESS_TEXT[status] ?? 'Success';
  }
  // The roles guard's own words for this route.
  const messages: Record<string, string> =
    handler.access === 'public' || handler.access.length === 0
      ? {}
      : { [CommonErrorCode.FORBIDDEN]: requiresRolesMessage(handler.access) };
  for (const [status, codes] of errors) {
    operation.responses[String(status)] = errorResponse(status, [...codes], handler.doc.errorExtras?.[status], messages);
  }
}

/**
 * Request bodies are validated with a whitelist (an unknown field is a 400), so every schema a body
 * refers to, at any depth, says `additionalProperties: false` unless it states otherwise.
 */
function closeRequestSchemas(document: OpenAPIObject): void {
  const schemas = (document.components?.schemas ?? {}) as Record<string, JsonObject>;
  const seen = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== 'object' || node === null) return;
    const ref = (node as JsonObject).$ref;
    if (typeof ref === 'string') {
      const name = ref.replace('#/components/schemas/', '');
      const schema = schemas[name];
      if (seen.has(name) || !schema) return;
      seen.add(name);
      if (schema.properties !== undefined && schema.additionalProperties === undefined) schema.additionalProperties = false;
      return visit(schema);
    }
    Object.values(node).forEach(visit);
  };
  for (const item of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) visit((item as Record<string, Operation | undefined>)[method]?.requestBody);
  }
}

/**
 * Completes a document made by SwaggerModule.createDocument: security, `x-roles` and error responses
 * for every operation. A route without @ApiEndpoint is an error, so no route goes undocumented.
 */
export function completeOpenApi(app: INestApplication, document: OpenAPIObject, options: OpenApiOptions = {}): OpenAPIObject {
  const handlers = documentedHandlers(app);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = (item as Record<string, Operation | undefined>)[method];
      if (!operation) continue;
      const handler = operation.operationId === undefined ? undefined : handlers.get(operation.operationId);
      if (!handler) throw new Error(`${method.toUpperCase()} ${path} has no @ApiEndpoint`);
      complete(operation, handler, method, options);
    }
  }
  closeRequestSchemas(document);
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, [ERROR_BODY_SCHEMA_NAME]: structuredClone(ERROR_BODY_SCHEMA) as never },
    securitySchemes: {
      [BEARER_SCHEME]: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'The accessToken from POST /auth/login (15 minutes); refresh it with POST /auth/refresh',
      },
    },
  };
  return document;
}

/** Objects with their keys sorted at every level (arrays keep their order): a stable file. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeysDeep((value as JsonObject)[key])]),
    );
  }
  return value;
}

/** The committed form of a document: sorted keys, two-space indent, one trailing newline. */
export function stableJson(document: unknown): string {
  return `${JSON.stringify(sortKeysDeep(document), null, 2)}\n`;
}
