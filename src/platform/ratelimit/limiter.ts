import type { Redis } from 'ioredis';
import type { Clock } from '../clock/clock.ts';

export type LimitDecision = { allowed: boolean; remaining: number; retryAfterSeconds: number };

/**
 * Fixed-window counters: `limit` hits per `windowMs` per key. Windows are cut from the injected
 * clock, so tests move time instead of sleeping. With Redis the counters are shared by every API
 * process; without, they live in this one.
 */
export type RateLimiter = {
  hit(key: string, rule: { limit: number; windowMs: number }): Promise<LimitDecision>;
};

function decide(count: number, limit: number, windowEnd: number, now: number): LimitDecision {
  return {
    allowed: count <= limit,
    remaining: Math.max(0, limit - count),
    retryAfterSeconds: count <= limit ? 0 : Math.max(1, Math.ceil((windowEnd - now) / 1000)),
  };
}

export function createMemoryRateLimiter(options: { clock: Clock }): RateLimiter {
  const counters = new Map<string, { count: number; windowEnd: number }>();
  let sweeps = 0;
  return {
    async hit(key, rule) {
      const now = options.clock.now().getTime();
      const windowStart = Math.floor(now / rule.windowMs) * rule.windowMs;
      const windowEnd = windowStart + rule.windowMs;
      const slot = `${key}@${windowStart}`;
      const counter = counters.get(slot) ?? { count: 0, windowEnd };
      counter.count += 1;
      counters.set(slot, counter);
      // Forget finished windows now and then, so the map does not grow without bound.
      if (++sweeps % 1000 === 0) {
        for (const [name, value] of counters) if (value.windowEnd <= now) counters.delete(name);
      }
      return decide(counter.count, rule.limit, windowEnd, now);
    },
  };
}

export function createRedisRateLimiter(options: {
  redis: Redis;
  prefix: string;
  clock: Clock;
}): RateLimiter {
  return {
    async hit(key, rule) {
      const now = options.clock.now().getTime();
      const windowStart = Math.floor(now / rule.windowMs) * rule.windowMs;
      const windowEnd = windowStart + rule.windowMs;
      const slot = `${options.prefix}:ratelimit:${key}:${windowStart}`;
      const [[, count]] = (await options.redis
        .multi()
        .incr(slot)
        .pexpire(slot, rule.windowMs + 1_000)
        .exec()) as [[Error | null, number], [Error | null, number]];
      return decide(count, rule.limit, windowEnd, now);
    },
  };
}
