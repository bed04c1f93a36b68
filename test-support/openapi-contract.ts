import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** An answer as a test recorded it: its status, headers (lower-case names) and body as text. */
export interface RecordedAnswer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
}

type JsonObject = Record<string, unknown>;
interface ResponseDoc {
  description: string;
  headers?: Record<string, { required?: boolean }>;
  content?: Record<string, { schema: JsonObject }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, ResponseDoc> } | undefined>>;
  components?: { schemas?: Record<string, JsonObject> };
}

/**
 * An OpenAPI 3.0 schema as JSON Schema: `#/components/schemas/X` becomes `#/$defs/X`, `nullable: true` adds
 * `null` to the type, and `example` and `discriminator` (documentation only: the `oneOf` beside a
 * discriminator still decides) are dropped, so Ajv's strict mode refuses whatever else it does not know.
 */
function jsonSchemaOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(jsonSchemaOf);
  if (typeof node !== 'object' || node === null) return node;
  const { example: _example, discriminator: _discriminator, nullable, ...rest } = node as JsonObject;
  const converted = Object.fromEntries(
    Object.entries(rest).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' ? value.replace('#/components/schemas/', '#/$defs/') : jsonSchemaOf(value),
    ]),
  );
  if (nullable === true && typeof converted.type === 'string') converted.type = [converted.type, 'null'];
  return converted;
}

/**
 * Checks recorded answers against an OpenAPI document, strictly: the status must be listed for the operation
 * (no `default`, no status range), the media type must be one it documents, every header the response
 * documents must be present, and the body must match the schema, `code` enums included (Ajv, strict mode).
 */
export class OpenApiContract {
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly document: OpenApiDocument) {
    this.ajv = new Ajv({ strict: true, allErrors: true, strictTypes: false });
    addFormats.default(this.ajv);
  }

  /** Why `answer` is not what the document says `METHOD /path/{param}` answers, or `undefined` when it is. */
  problemWith(operation: string, answer: RecordedAnswer): string | undefined {
    const [method = '', path = ''] = operation.split(' ');
    const documented = this.document.paths[path]?.[method.toLowerCase()];
    if (!documented) return `${operation} is not in the document`;
    const response = documented.responses[String(answer.status)];
    if (!response) return `${operation} does not list status ${answer.status} (${answer.text.slice(0, 200)})`;
    for (const name of Object.keys(response.headers ?? {})) {
      if (answer.headers[name.toLowerCase()] === undefined) return `${operation} ${answer.status} lacks the header ${name}`;
    }
    const contentType = String(answer.headers['content-type'] ?? '');
    const mediaTypes = Object.keys(response.content ?? {});
    if (mediaTypes.length === 0) return answer.text === '' ? undefined : `${operation} ${answer.status} documents no body`;
    const mediaType = mediaTypes.find((type) => contentType.split(';')[0]?.trim() === type);
    if (!mediaType) return `${operation} ${answer.status} is ${contentType}, documented: ${mediaTypes.join(', ')}`;
    if (mediaType !== 'application/json') return undefined;
    const key = `${operation} ${answer.status}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile({
        ...(jsonSchemaOf(response.content?.[mediaType]?.schema) as JsonObject),
        $defs: jsonSchemaOf(this.document.components?.schemas ?? {}),
      });
      this.validators.set(key, validate);
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      return `${key}: the body is not JSON (${answer.text.slice(0, 200)})`;
    }
    if (validate(body)) return undefined;
    return `${key}: ${this.ajv.errorsText(validate.errors)} in ${answer.text.slice(0, 300)}`;
  }
}
