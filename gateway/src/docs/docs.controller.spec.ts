import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { DocsController } from './docs.controller.js';

/** What Fastify sends for a handler's answer: a string of a JSON type as it is, anything else serialized. */
function sentText(answer: unknown): string {
  return typeof answer === 'string' ? answer : JSON.stringify(answer);
}

function fakeReply(): FastifyReply {
  const reply = { header: () => reply };
  return reply as unknown as FastifyReply;
}

describe('GET /openapi.json', () => {
  it('serializes the document once, not per request: each answer only adds the servers of the host it was asked by', () => {
    let serialized = 0;
    // Stands for the merged document's 430 KB of paths: each walk of it through JSON.stringify is counted.
    const paths = { toJSON: () => (serialized++, { '/health': { get: {} } }) };
    const document = {
      openapi: '3.0.0',
      info: { title: 'platform', version: '1' },
      servers: [{ url: 'http://localhost:3000' }],
      paths,
    } as unknown as OpenAPIObject;
    const controller = new DocsController(document);
    const served = ['a.example:1', 'b.example:2', 'c.example:3'].map((host) => {
      const request = { protocol: 'http', host } as FastifyRequest;
      return JSON.parse(sentText(controller.openApi(request, fakeReply()))) as {
        servers: Array<{ url: string }>;
        paths: unknown;
      };
    });
    expect(served.map((document) => document.servers.map((server) => server.url))).toEqual([
      ['http://a.example:1', 'http://localhost:3000'],
      ['http://b.example:2', 'http://localhost:3000'],
      ['http://c.example:3', 'http://localhost:3000'],
    ]);
    for (const document of served) expect(document.paths).toEqual({ '/health': { get: {} } });
    expect(serialized).toBe(1);
  });
});
