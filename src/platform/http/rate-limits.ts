import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { AppError } from '../errors/errors.ts';

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
    limits: { anonymousPerMinute: number; userPerMinute: number };
    userOf: (request: FastifyRequest) => Promise<string | undefined>;
  },
) {
  await app.register(rateLimit, {
    global: true,
    timeWindow: 60_000,
    ...(options.redis ? { redis: options.redis, nameSpace: `${options.prefix}:rl:` } : {}),
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
