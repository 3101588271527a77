import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
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
          'Online assessment platform: timed quizzes, sandboxed coding challenges, leaderboards, analytics. Errors are RFC 9457 problem documents. A request body holding half a UTF-16 surrogate pair (a lone `\\ud800`) anywhere is refused with 400.',
      },
      servers: [],
      tags: [{ name: 'platform', description: 'Health, metrics and API documents' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          // The docs page's Authorize button signs in through the OAuth2 password flow.
          password: {
            type: 'oauth2',
            flows: { password: { tokenUrl: '/api/v1/auth/token', scopes: {} } },
          },
          // The Judge0-compatible surface also takes the configured JUDGE0_AUTH_TOKEN.
          judge0Key: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' },
        },
      },
      security: [{ bearer: [] }, { password: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  // Scalar's bundle is a 4 MB module that costs ~200 ms to load: build it on the first visit to
  // /redoc, in an app of its own, instead of at every start.
  let reference: Promise<FastifyInstance> | undefined;
  const referenceApp = async () => {
    const { default: scalar } = await import('@scalar/fastify-api-reference');
    const docs = Fastify({ logger: false });
    await docs.register(scalar, {
      routePrefix: '/redoc',
      configuration: { url: '/openapi.json', layout: 'modern' },
    });
    await docs.ready();
    return docs;
  };
  app.get('/redoc', { schema: { hide: true }, config: { access: 'public' } }, (_request, reply) =>
    reply.redirect('/redoc/', 302),
  );
  app.get(
    '/redoc/*',
    { schema: { hide: true }, config: { access: 'public' } },
    async (request, reply) => {
      reference ??= referenceApp();
      const response = await (await reference).inject({ method: 'GET', url: request.url });
      const type = response.headers['content-type'];
      if (type) reply.type(String(type));
      return reply.status(response.statusCode).send(response.rawPayload);
    },
  );

  app.get('/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, async () =>
    app.swagger(),
  );
}
