import { type JobsOptions, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger/logger.ts';
import type { RedisFactory } from '../redis/redis.ts';
import { withTimeout } from '../redis/redis.ts';
import type { Consumer, Delivery, QueueDriver } from './queue.types.ts';

type MessageData = Delivery;

/**
 * How a message is added: under its own id (a push of a message BullMQ still holds is a no-op,
 * so the sweeper never doubles a waiting one), kept a day after failing. A ledger id is retried
 * by BullMQ when claiming fails (the database is down); an owner-kept job is not: the job queue
 * catches everything its handler throws and schedules the retry itself.
 */
export function messageOptions(options: {
  messageId: string;
  delayMs: number;
  owned?: boolean;
}): JobsOptions {
  return {
    jobId: options.messageId,
    delay: options.delayMs > 0 ? options.delayMs : undefined,
    ...(options.owned ? {} : { attempts: 5, backoff: { type: 'exponential', delay: 500 } }),
    removeOnComplete: true,
    removeOnFail: { age: 24 * 3600, count: 1000 },
  };
}

/**
 * BullMQ as the broker: one BullMQ queue per Assay queue, messages carry only the ledger id (or
 * an owner-kept job's type and payload).
 * BullMQ's own retries cover infrastructure failures while claiming; job-level retries are the
 * ledger's, so both drivers behave the same.
 */
export function createBullmqDriver(options: { redis: RedisFactory; logger: Logger }): QueueDriver {
  const connection: Redis = options.redis.connect({ name: 'assay-queue' });
  const prefix = `${options.redis.prefix}:bull`;
  const queues = new Map<string, Queue<MessageData>>();
  const workers = new Set<Worker<MessageData>>();

  const queueFor = (name: string) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue<MessageData>(name, { connection, prefix });
      queue.on('error', (error) =>
        options.logger.warn({ err: error, queue: name }, 'bullmq queue error'),
      );
      queues.set(name, queue);
    }
    return queue;
  };

  return {
    kind: 'bullmq',

    async push({ queue, messageId, jobId, job, delayMs }) {
      const data: MessageData = job ? { jobId, job } : { jobId };
      await queueFor(queue).add(
        'job',
        data,
        messageOptions({ messageId, delayMs, owned: job !== undefined }),
      );
    },

    async consume({ queues: names, concurrency, handle }): Promise<Consumer> {
      const started = names.map((name) => {
        const worker = new Worker<MessageData>(
          name,
          async (message) => {
            await handle(message.data);
          },
          {
            connection: options.redis.connect({ blocking: true, name: `assay-worker-${name}` }),
            prefix,
            concurrency,
            // A SIGKILLed worker's message comes back after this; the ledger lease decides who runs it.
            lockDuration: 30_000,
          },
        );
        worker.on('error', (error) =>
          options.logger.warn({ err: error, queue: name }, 'bullmq worker error'),
        );
        workers.add(worker);
        return worker;
      });
      await Promise.all(started.map((worker) => worker.waitUntilReady()));
      return {
        close: async (timeoutMs) => {
          await Promise.all(
            started.map(async (worker) => {
              try {
                await withTimeout(worker.close(), timeoutMs, 'worker close');
              } catch {
                await worker.close(true);
              }
              workers.delete(worker);
              await worker.disconnect();
            }),
          );
        },
      };
    },

    async waiting(queue) {
      const counts = await queueFor(queue).getJobCounts('waiting', 'delayed', 'prioritized');
      return (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0);
    },

    async ping() {
      await connection.ping();
    },

    async close() {
      for (const worker of workers) await worker.close(true);
      for (const queue of queues.values()) await queue.close();
      connection.disconnect();
    },
  };
}
