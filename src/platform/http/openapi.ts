import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import scalar from '@scalar/fastify-api-reference';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/**
 * The OpenAPI 3.1 document is generated from the same Zod schemas that validate requests, so it
 * cannot drift from the code. `/docs` is Swagger UI, `/redoc` a three-pane reference (Scalar),
 * both served from local packages: no CDN needed.
 */
export async function registerOpenApi(app: FastifyInstance, options: { version: string }) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Assay API',
        version: options.version,
        description:
          'Online assessment platform: timed quizzes, sandboxed coding challenges, leaderboards, analytics. Errors are RFC 9457 problem documents.',
      },
      servers: [],
      tags: [{ name: 'platform', description: 'Health, metrics and API documents' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  await app.register(scalar, {
    routePrefix: '/redoc',
    configuration: { url: '/openapi.json', layout: 'modern' },
  });

  app.get('/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, async () =>
    app.swagger(),
  );
}
