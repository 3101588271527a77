import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger/logger.ts';

export type RedisFactory = {
  url: string;
  /** Namespaces every key and channel, so several deployments (or test runs) share one Redis. */
  prefix: string;
  /**
   * A new connection. `blocking` ones (BullMQ workers, subscribers) retry commands forever;
   * the others fail fast so a request never hangs on a Redis that is gone.
   */
  connect(options?: { blocking?: boolean; name?: string }): Redis;
};

export function createRedisFactory(options: {
  url: string;
  prefix: string;
  logger: Logger;
}): RedisFactory {
  return {
    url: options.url,
    prefix: options.prefix,
    connect: ({ blocking = false, name = 'assay' } = {}) => {
      const redisOptions: RedisOptions = {
        connectionName: name,
        lazyConnect: false,
        maxRetriesPerRequest: blocking ? null : 2,
        enableOfflineQueue: true,
        retryStrategy: (times) => Math.min(times * 200, 2_000),
      };
      const client = new Redis(options.url, redisOptions);
      let reported = false;
      client.on('error', (error) => {
        // ioredis reconnects by itself; say so once per outage, not on every retry.
        if (!reported)
          options.logger.warn({ err: error, connection: name }, 'redis connection error');
        reported = true;
      });
      client.on('ready', () => {
        if (reported) options.logger.info({ connection: name }, 'redis connection restored');
        reported = false;
      });
      return client;
    },
  };
}

/** Resolves when `promise` does, rejects after `ms`. For probes that must not hang. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
