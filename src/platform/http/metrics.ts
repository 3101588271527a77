import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type QueueDepthSource = () => Promise<
  Array<{ queue: string; status: string; count: number }>
>;

/** One registry per process (not prom-client's global), so tests can build many apps. */
export function createMetrics(options: { queueDepth?: QueueDepthSource } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });

  const httpDuration = new Histogram({
    name: 'assay_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const queueDepth = options.queueDepth;
  new Gauge({
    name: 'assay_queue_depth',
    help: 'Jobs by queue and state, from the ledger and from owner-kept rows such as submissions (pending = waiting or scheduled for retry)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      if (!queueDepth) return;
      this.reset();
      try {
        for (const row of await queueDepth())
          this.set({ queue: row.queue, state: row.status }, row.count);
      } catch {
        // The database is down: /health says so; the scrape still succeeds without this gauge.
      }
    },
  });

  const jobsProcessed = new Counter({
    name: 'assay_jobs_finished_total',
    help: 'Jobs finished by type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });

  const openStreams = new Gauge({
    name: 'assay_sse_streams_open',
    help: 'Server-Sent Events streams open in this process, by stream',
    labelNames: ['stream'] as const,
    registers: [registry],
  });

  return { registry, httpDuration, jobsProcessed, openStreams };
}

export type Metrics = ReturnType<typeof createMetrics>;

export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics) {
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: ids in paths would explode the label set.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}
