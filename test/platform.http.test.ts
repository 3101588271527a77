import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestApp, type TestApp } from './support/app.ts';

/** Routes that exist only in this test, to drive the error paths every real route shares. */
const probeRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/api/v1/_probe/echo',
    {
      config: { access: 'public' },
      schema: {
        body: z.strictObject({
          name: z.string().min(2),
          options: z.array(z.strictObject({ text: z.string() })).optional(),
        }),
        response: { 200: z.object({ name: z.string() }) },
      },
    },
    async (request) => ({ name: request.body.name }),
  );
  app.post('/api/v1/_probe/bodiless', { config: { access: 'public' } }, async () => ({
    ok: true,
  }));
  app.get('/api/v1/_probe/explode', { config: { access: 'public' } }, async () => {
    throw new Error('connect ECONNREFUSED 10.1.2.3:5432 at /srv/assay/src/secret.ts');
  });
};

describe('platform HTTP surface', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ beforeReady: (app) => app.register(probeRoutes) });
    // Sandbox detection runs in the background; /health reports it down until it is done.
    await t.deps.execution.status();
  });
  afterAll(async () => {
    await t.close();
  });

  it('GET /health reports each dependency and ok', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.status).toBe('ok');
    expect(Object.keys(body.checks).sort()).toEqual(['db', 'sandbox', 'storage']);
    expect(body.checks.db).toMatchObject({ status: 'up' });
    expect(body.checks.storage).toMatchObject({ status: 'up' });
  });

  it('puts a request id on every response and keeps a well-formed one from the caller', async () => {
    const generated = await t.app.inject({ method: 'GET', url: '/health' });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await t.app.inject({
      method: 'GET',
      url: '/nowhere',
      headers: { 'x-request-id': 'trace-abc-123' },
    });
    expect(kept.headers['x-request-id']).toBe('trace-abc-123');
    expect(kept.json().requestId).toBe('trace-abc-123');
    const refused = await t.app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'bad id\nforged' },
    });
    expect(refused.headers['x-request-id']).not.toContain('forged');
  });

  it('answers an unknown route with a 404 problem document', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/does-not-exist?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({
      type: expect.any(String),
      title: 'Not found',
      status: 404,
      detail: expect.stringContaining('/api/v1/does-not-exist'),
      code: 'NOT_FOUND',
    });
  });

  it('answers invalid input with 400 and one entry per problem', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/_probe/echo',
      payload: { name: 'x', options: [{ text: 1 }] },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = response.json();
    expect(body).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      title: 'Validation failed',
    });
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { path: 'body.name', message: expect.any(String) },
        { path: 'body.options[0].text', message: expect.any(String) },
      ]),
    );
  });

  it('refuses unknown body fields (no mass assignment)', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/_probe/echo',
      payload: { name: 'Ada', role: 'admin' },
    });
    expect(response.statusCode).toBe(400);
    expect(JSON.stringify(response.json().errors)).toContain('role');
  });

  it('takes "Content-Type: application/json" with no body as no body', async () => {
    const json = { 'content-type': 'application/json' };
    // Many clients set the header on every request: a route without a body just works.
    const bodiless = await t.app.inject({
      method: 'POST',
      url: '/api/v1/_probe/bodiless',
      headers: json,
    });
    expect(bodiless.statusCode, bodiless.body).toBe(200);
    // A route that needs one says so through its schema.
    const missing = await t.app.inject({
      method: 'POST',
      url: '/api/v1/_probe/echo',
      headers: json,
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(missing.json().errors).toEqual([{ path: 'body', message: expect.any(String) }]);
    // A body still goes through Fastify's own parser: prototype poisoning is refused.
    const poisoned = await t.app.inject({
      method: 'POST',
      url: '/api/v1/_probe/echo',
      headers: json,
      payload: '{"name": "Ada", "__proto__": {"admin": true}}',
    });
    expect(poisoned.statusCode).toBe(400);
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/_probe/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ status: 400, code: 'MALFORMED_JSON' });
  });

  it('hides the internals of an unexpected error and logs them with the request id', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/v1/_probe/explode',
      headers: { 'x-request-id': 'boom-request-1' },
    });
    expect(response.statusCode).toBe(500);
    const text = response.body;
    expect(response.json()).toMatchObject({
      status: 500,
      code: 'INTERNAL_ERROR',
      requestId: 'boom-request-1',
    });
    expect(text).not.toContain('ECONNREFUSED');
    expect(text).not.toContain('/srv/assay');
    expect(text).not.toContain('at ');
    const logged = t.logs.find(
      (line) => line.level === 'error' && line.requestId === 'boom-request-1',
    );
    expect(logged?.err?.message).toContain('ECONNREFUSED');
  });

  it('writes pino JSON request logs carrying the request id', async () => {
    await t.app.inject({
      method: 'GET',
      url: '/api/v1/nothing-here',
      headers: { 'x-request-id': 'log-check-0001' },
    });
    const lines = t.logs.filter((line) => line.requestId === 'log-check-0001');
    expect(lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['incoming request', 'request completed']),
    );
  });

  it('never logs credentials from request headers', async () => {
    await t.app.inject({
      method: 'GET',
      url: '/api/v1/nothing-here',
      headers: { authorization: 'Bearer super-secret-token', 'x-request-id': 'redact-check-01' },
    });
    expect(JSON.stringify(t.logs)).not.toContain('super-secret-token');
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toBe('3.1.0');
    expect(document.paths['/health'].get.responses).toHaveProperty('200');
    expect(document.paths['/health'].get.responses).toHaveProperty('503');
    expect(document.paths['/api/v1/_probe/echo'].post.requestBody).toBeDefined();
  });

  it('serves the interactive docs and the reference page', async () => {
    const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/text\/html/);
    const redoc = await t.app.inject({ method: 'GET', url: '/redoc/' });
    expect(redoc.statusCode).toBe(200);
    expect(redoc.body).toContain('/openapi.json');
  });

  it('exposes Prometheus metrics: request durations by route and status, event-loop lag, queue depth', async () => {
    await t.app.inject({ method: 'GET', url: '/health' });
    await t.deps.jobs.enqueue('maintenance.prune-jobs', {
      completedRetentionDays: 7,
      failedRetentionDays: 30,
    });
    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toMatch(
      /assay_http_request_duration_seconds_bucket\{[^}]*route="\/health"[^}]*status_code="200"/,
    );
    expect(response.body).toMatch(
      /assay_http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\}/,
    );
    expect(response.body).toContain('nodejs_eventloop_lag_seconds');
    expect(response.body).toMatch(/assay_queue_depth\{queue="maintenance",state="pending"\} 1/);
  });

  it('answers CORS only for listed origins, never with a wildcard', async () => {
    const listed = await createTestApp({ env: { CORS_ORIGINS: 'https://app.school.example' } });
    try {
      const allowed = await listed.app.inject({
        method: 'OPTIONS',
        url: '/api/v1/auth/login',
        headers: { origin: 'https://app.school.example', 'access-control-request-method': 'POST' },
      });
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.school.example');
      expect(allowed.headers['access-control-allow-credentials']).toBe('true');
      const other = await listed.app.inject({
        method: 'OPTIONS',
        url: '/api/v1/auth/login',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await listed.close();
    }
  });
});
