import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { healthReport } from './health.schemas.ts';
import type { HealthService } from './health.service.ts';

export function healthRoutes(options: { health: HealthService }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/health',
      {
        schema: {
          tags: ['platform'],
          summary: 'Liveness and dependency checks',
          description:
            'Each dependency is probed with a timeout; results are cached briefly. `status` is `degraded` when any check is down; the response is 503 when the database is down.',
          security: [],
          response: { 200: healthReport, 503: healthReport },
        },
        config: { access: 'public' },
      },
      async (_request, reply) => {
        const { report, healthy } = await options.health.check();
        return reply
          .status(healthy ? 200 : 503)
          .header('cache-control', 'no-store')
          .send(report);
      },
    );
  };
}
