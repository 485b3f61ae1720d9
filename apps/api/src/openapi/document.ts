import type { AnyTRPCProcedure, AnyTRPCRouter } from '@trpc/server';
import * as z from 'zod';

/**
 * One REST operation per tRPC query and mutation, derived from the router itself so that every
 * procedure any of us adds is covered without a per-procedure edit: `sessions.get` (a query)
 * answers `GET /api/sessions/get?id=…`, `sessions.create` (a mutation) `POST /api/sessions/create`
 * with the input as its JSON body. Subscriptions are streams and have no REST form.
 *
 * Why not trpc-to-openapi (3.3, which does support tRPC 11 and zod 4): it documents only
 * procedures carrying `.meta({ openapi: { method, path } })`, i.e. one hand edit per procedure
 * while several people add procedures in parallel, and its handler parses bodies itself (co-body,
 * h3), outside our body limit. Here zod 4's own `z.toJSONSchema` does the schema work.
 */
export interface RestOperation {
  /** The tRPC path, e.g. `sessions.get`. */
  procedure: string;
  type: 'query' | 'mutation';
  method: 'get' | 'post';
  /** e.g. `/api/sessions/get`. */
  path: string;
  input: z.ZodType | undefined;
  output: z.ZodType | undefined;
}

export const REST_BASE_PATH = '/api';

interface ProcedureDef {
  type: 'query' | 'mutation' | 'subscription';
  inputs: unknown[];
  output?: unknown;
}

/** Every query and mutation of `router`, as REST operations, in the router's order. */
export function restOperations(router: AnyTRPCRouter): RestOperation[] {
  const procedures = router._def.procedures as Record<string, AnyTRPCProcedure>;
  const operations: RestOperation[] = [];
  for (const [procedure, { _def }] of Object.entries(procedures)) {
    const def = _def as unknown as ProcedureDef;
    if (def.type === 'subscription') continue;
    const inputs = def.inputs.filter((input): input is z.ZodType => input instanceof z.ZodType);
    operations.push({
      procedure,
      type: def.type,
      method: def.type === 'query' ? 'get' : 'post',
      path: `${REST_BASE_PATH}/${procedure.split('.').join('/')}`,
      // Chained .input() calls merge objects; we use one per procedure, and document the last.
      input: inputs.at(-1),
      output: def.output instanceof z.ZodType ? def.output : undefined,
    });
  }
  return operations;
}

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  // Dates and the like travel as JSON strings; anything JSON Schema cannot say becomes `{}`.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'httpStatus'],
      properties: {
        code: {
          type: 'string',
          description: 'The tRPC error code: BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, …',
        },
        message: { type: 'string' },
        httpStatus: { type: 'integer' },
        details: {
          description: 'What a refusal is about: the limit and its value, the two states, the seconds to wait',
        },
        zodError: { description: 'Field errors of invalid input (formErrors, fieldErrors)' },
      },
    },
  },
};

/**
 * The OpenAPI 3.1 document of the REST surface (its schemas are JSON Schema 2020-12, which is
 * what zod 4 emits and what OpenAPI 3.1 uses).
 */
export function openApiDocument(router: AnyTRPCRouter, { version }: { version: string }): JsonSchema {
  const paths: Record<string, JsonSchema> = {};
  for (const operation of restOperations(router)) {
    const input = operation.input === undefined ? undefined : jsonSchema(operation.input, 'input');
    const spec: JsonSchema = {
      operationId: operation.procedure,
      tags: [operation.procedure.split('.')[0]],
      summary: `${operation.type} ${operation.procedure}`,
      security: [{ bearer: [] }, { apiKey: [] }, { anonymousId: [] }, {}],
      responses: {
        '200': {
          description: 'The result',
          content: { 'application/json': { schema: operation.output ? jsonSchema(operation.output, 'output') : {} } },
        },
        default: {
          description: 'A typed error; the HTTP status follows the code (400, 401, 403, 404, 409, 413, 429, 500, 503)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
    if (input !== undefined && operation.method === 'get') {
      // Each top-level field is one query parameter: strings as they are, anything else as JSON
      // (`limit=20`, `archived=true`, `ids=["…"]`).
      const properties = (input.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((input.required ?? []) as string[]);
      spec.parameters = Object.entries(properties).map(([name, schema]) => ({
        name,
        in: 'query',
        required: required.has(name),
        schema,
        ...(isStringSchema(schema) ? {} : { description: 'JSON-encoded' }),
      }));
    } else if (input !== undefined) {
      spec.requestBody = { required: true, content: { 'application/json': { schema: input } } };
    }
    paths[operation.path] = { [operation.method]: spec };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Threadstore',
      version,
      description:
        'The REST form of the tRPC API: same procedures, authentication, tenancy, limits and typed errors. ' +
        'Queries are GET with their input fields as query parameters; mutations are POST with a JSON body.',
    },
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        anonymousId: { type: 'apiKey', in: 'header', name: 'X-Session-ID' },
      },
    },
  };
}

/** Whether a query parameter of this schema is passed as it is rather than as JSON. */
export function isStringSchema(schema: JsonSchema): boolean {
  if (schema.type === 'string') return true;
  if (Array.isArray(schema.enum)) return schema.enum.every((value) => typeof value === 'string');
  if (typeof schema.const === 'string') return true;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options)) {
      return (options as JsonSchema[]).every((option) => option.type === 'null' || isStringSchema(option));
    }
  }
  return false;
}
