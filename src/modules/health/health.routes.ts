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
        // Probes call this many times a second: no rate limit, and the report is serialised once
        // per round of checks (a string reply skips the per-request schema serialiser).
        config: { access: 'public', rateLimit: false },
      },
      async (_request, reply) => {
        const { json, healthy } = await options.health.check();
        return (
          reply
            .status(healthy ? 200 : 503)
            .header('cache-control', 'no-store')
            .type('application/json; charset=utf-8')
            // Already serialised (and checked against the schema) by the health service.
            .send(json as never)
        );
      },
    );
  };
}
