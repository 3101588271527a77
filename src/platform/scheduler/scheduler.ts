import { Queue, Worker } from 'bullmq';
import type { Clock } from '../clock/clock.ts';
import type { Logger } from '../logger/logger.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import type { JobMapShape } from '../queue/queue.types.ts';
import type { RedisFactory } from '../redis/redis.ts';

export type Schedule<M extends JobMapShape> = {
  [K in keyof M & string]: { name: string; everyMs: number; type: K; payload: M[K] };
}[keyof M & string];

export type Scheduler = {
  readonly kind: 'timers' | 'bullmq';
  start(): Promise<void>;
  stop(): Promise<void>;
};

/** The tick a moment falls in: ticks are aligned to multiples of the period since the epoch. */
export function tickOf(at: Date, everyMs: number): number {
  return Math.floor(at.getTime() / everyMs) * everyMs;
}

/** One job id per schedule and tick, so however many processes fire a tick, it runs once. */
export function tickJobId(name: string, tick: number): string {
  return `schedule.${name}.${tick}`;
}

async function fire<M extends JobMapShape>(queue: JobQueue<M>, schedule: Schedule<M>, tick: number) {
  await queue.enqueue(schedule.type, schedule.payload, { jobId: tickJobId(schedule.name, tick) });
}

/**
 * Timers in this process. Several processes sharing a database may all run it: the per-tick
 * job id makes the ledger keep one job per tick.
 */
export function createTimerScheduler<M extends JobMapShape>(options: {
  queue: JobQueue<M>;
  schedules: readonly Schedule<M>[];
  clock: Clock;
  logger: Logger;
}): Scheduler & { fireDue(at: Date): Promise<void> } {
  const timers = new Set<NodeJS.Timeout>();
  let running = false;

  const fireDue = async (at: Date) => {
    for (const schedule of options.schedules) {
      await fire(options.queue, schedule, tickOf(at, schedule.everyMs));
    }
  };

  const arm = (schedule: Schedule<M>) => {
    if (!running) return;
    const now = options.clock.now().getTime();
    const next = tickOf(new Date(now), schedule.everyMs) + schedule.everyMs;
    const timer = setTimeout(() => {
      timers.delete(timer);
      fire(options.queue, schedule, next)
        .catch((error: unknown) =>
          options.logger.warn({ err: error, schedule: schedule.name }, 'scheduled tick failed'),
        )
        .finally(() => arm(schedule));
    }, next - now);
    timer.unref();
    timers.add(timer);
  };

  return {
    kind: 'timers',
    fireDue,
    async start() {
      running = true;
      for (const schedule of options.schedules) arm(schedule);
    },
    async stop() {
      running = false;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

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
      queue = new Queue(name, { connection: options.redis.connect({ name: 'assay-scheduler' }), prefix });
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
          await fire(options.queue, schedule, tickOf(new Date(firedAt.getTime() + schedule.everyMs / 2), schedule.everyMs));
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
