import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Deps } from './deps.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { registerHttpMetrics } from './platform/http/metrics.ts';
import { registerOpenApi } from './platform/http/openapi.ts';
import { registerProblemHandlers } from './platform/http/problem.ts';
import { requestIdFrom } from './platform/http/request-id.ts';
import { VERSION } from './version.ts';

export type App = FastifyInstance;

const QUIET_PATHS = new Set(['/health', '/metrics']);

/**
 * Builds the HTTP application on already-built dependencies. Nothing here opens connections,
 * so tests build as many apps as they like and drive them with `inject()`.
 */
export async function buildApp(deps: Deps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: requestIdFrom,
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      // Probes hit these every few seconds; logging each would drown the real traffic.
      disableRequestLogging: (request) => QUIET_PATHS.has(request.url),
    }),
    bodyLimit: deps.config.http.bodyLimitBytes,
    trustProxy:
      deps.config.http.trustedProxies.length > 0 ? [...deps.config.http.trustedProxies] : false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false } },
  });
  app.withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerProblemHandlers(app);
  if (deps.config.metricsEnabled) {
    registerHttpMetrics(app, deps.metrics);
    app.get(
      '/metrics',
      { schema: { hide: true }, config: { public: true } },
      async (_request, reply) =>
        reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
    );
  }
  await registerOpenApi(app, { version: VERSION });

  await app.register(healthRoutes({ health: deps.health }));

  return app;
}
