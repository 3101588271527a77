import { Queue, Worker } from 'bullmq';
import type { Logger } from '../logger/logger.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import type { JobMapShape } from '../queue/queue.types.ts';
import type { RedisFactory } from '../redis/redis.ts';
import { fire, type Schedule, type Scheduler, tickOf } from './scheduler.ts';

/** BullMQ job schedulers: Redis holds the schedule, and each tick is delivered to one process. */
export function createBullmqScheduler<M extends JobMapShape>(options: {
  queue: JobQueue<M>;
  schedules: readonly Schedule<M>[];
  redis: RedisFactory;
  logger: Logger;
}): Scheduler {
  const prefix = `${options.redis.prefix}:bull`;
  const name = 'schedules';
  let queue: Queue | undefined;
  let worker: Worker | undefined;
  const byName = new Map(options.schedules.map((schedule) => [schedule.name, schedule]));

  return {
    kind: 'bullmq',
    async start() {
      queue = new Queue(name, {
        connection: options.redis.connect({ name: 'assay-scheduler' }),
        prefix,
      });
      for (const schedule of options.schedules) {
        await queue.upsertJobScheduler(
          schedule.name,
          { every: schedule.everyMs },
          { name: schedule.name, data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } },
        );
      }
      worker = new Worker(
        name,
        async (job) => {
          const schedule = byName.get(job.name);
          if (!schedule) return; // a schedule another version registered; not ours to run
          const firedAt = new Date(job.timestamp + (job.opts.delay ?? 0));
          await fire(
            options.queue,
            schedule,
            tickOf(new Date(firedAt.getTime() + schedule.everyMs / 2), schedule.everyMs),
          );
        },
        {
          connection: options.redis.connect({ blocking: true, name: 'assay-scheduler-worker' }),
          prefix,
          concurrency: 1,
        },
      );
      worker.on('error', (error) => options.logger.warn({ err: error }, 'scheduler worker error'));
      await worker.waitUntilReady();
    },
    async stop() {
      await worker?.close();
      await worker?.disconnect();
      await queue?.close();
      await queue?.disconnect();
    },
  };
}
