import type { Clock } from '../clock/clock.ts';
import type { Logger } from '../logger/logger.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import type { JobMapShape } from '../queue/queue.types.ts';

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

export async function fire<M extends JobMapShape>(
  queue: JobQueue<M>,
  schedule: Schedule<M>,
  tick: number,
) {
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
