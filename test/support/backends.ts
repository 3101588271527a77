import { inject } from 'vitest';
import type { Logger } from '../../src/platform/logger/logger.ts';
import { createMemoryDriver } from '../../src/platform/queue/memory-driver.ts';
import type { QueueDriver } from '../../src/platform/queue/queue.types.ts';
import { createRedisFactory, type RedisFactory } from '../../src/platform/redis/redis.ts';
import type { DatabaseKind } from './databases.ts';

export type Backend = { name: string; database: DatabaseKind; queue: 'memory' | 'bullmq' };

/**
 * The combinations the queue and bus contracts run against: the embedded default always, and
 * the production pair (PostgreSQL + BullMQ on Redis) when DATABASE_URL and REDIS_URL are set.
 */
export function backends(): Backend[] {
  const list: Backend[] = [{ name: 'pglite + memory', database: 'pglite', queue: 'memory' }];
  const hasPostgres = inject('postgresTemplate') !== null;
  const hasRedis = inject('redis') !== null;
  if (hasPostgres) list.push({ name: 'postgres + memory', database: 'postgres', queue: 'memory' });
  if (hasRedis) {
    list.push({
      name: `${hasPostgres ? 'postgres' : 'pglite'} + bullmq`,
      database: hasPostgres ? 'postgres' : 'pglite',
      queue: 'bullmq',
    });
  }
  return list;
}

let counter = 0;

/** A Redis namespace of this test's own inside the run's prefix. */
export function testRedis(logger: Logger): RedisFactory {
  const redis = inject('redis');
  if (!redis) throw new Error('REDIS_URL is not set');
  counter += 1;
  return createRedisFactory({
    url: redis.url,
    prefix: `${redis.prefix}-${process.pid}-${counter}`,
    logger,
  });
}

export async function createDriver(
  kind: Backend['queue'],
  logger: Logger,
  redis?: RedisFactory,
): Promise<QueueDriver> {
  if (kind === 'memory') return createMemoryDriver({ logger });
  const { createBullmqDriver } = await import('../../src/platform/queue/bullmq-driver.ts');
  return createBullmqDriver({ redis: redis ?? testRedis(logger), logger });
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
  throw new Error(
    `timed out waiting for ${options.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`,
  );
}
