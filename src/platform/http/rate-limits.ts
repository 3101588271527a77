import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock/clock.ts';
import { AppError } from '../errors/errors.ts';
import { createLeasedCounter, type LeasedCounter } from '../ratelimit/leased-counter.ts';

/** The plugin's store interface over leased Redis counters: no round trip on most requests. */
function leasedStore(counter: LeasedCounter) {
  return class LeasedStore implements FastifyRateLimitStore {
    // The plugin constructs it with its options, which the counter does not need.
    constructor(
      _options?: object,
      private readonly scope = '',
    ) {}

    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
      max: number,
    ) {
      counter.hit(this.scope + key, max, timeWindow).then(
        (hit) => callback(null, { current: hit.used, ttl: hit.ttlMs }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }

    child(options: object) {
      // A route with limits of its own counts apart, as the plugin's Redis store does.
      const route = (options as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo;
      return new LeasedStore(
        undefined,
        `${this.scope}${String(route?.method)}${String(route?.url)}-`,
      );
    }
  };
}

/**
 * The global default: per user when the request carries a valid access token, per client IP
 * otherwise. With Redis the counters are shared by every API process. Tighter limits of single
 * flows (login, codes) live in their services.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  options: {
    redis: Redis | undefined;
    prefix: string;
    clock: Clock;
    limits: { anonymousPerMinute: number; userPerMinute: number };
    userOf: (request: FastifyRequest) => Promise<string | undefined>;
  },
) {
  await app.register(rateLimit, {
    global: true,
    timeWindow: 60_000,
    ...(options.redis
      ? {
          store: leasedStore(
            createLeasedCounter({
              redis: options.redis,
              prefix: options.prefix,
              clock: options.clock,
            }),
          ),
        }
      : {}),
    // A Redis outage must not take the API down with it: fail open and let /health say why.
    skipOnError: true,
    keyGenerator: async (request) => {
      const userId = await options.userOf(request).catch(() => undefined);
      return userId ? `user:${userId}` : `ip:${request.ip}`;
    },
    max: async (_request, key) =>
      key.startsWith('user:') ? options.limits.userPerMinute : options.limits.anonymousPerMinute,
    allowList: (request) => request.url === '/health' || request.url === '/metrics',
    errorResponseBuilder: (_request, context) =>
      new AppError({
        code: 'RATE_LIMITED',
        status: 429,
        title: 'Too many requests',
        detail: `Limit of ${context.max} requests per minute reached; retry in ${context.after}.`,
        headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
      }),
  });
}
