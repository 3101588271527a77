import type { Logger } from '../logger/logger.ts';
import { retryDelayMs } from './backoff.ts';
import type { Consumer, OwnedJob, QueueDriver } from './queue.types.ts';

type Message = { messageId: string; jobId: string; job?: OwnedJob; failures: number };

type Lane = {
  waiting: Message[];
  /** Message ids waiting or delayed: a second push of one of them is a no-op, as in BullMQ. */
  known: Set<string>;
  timers: Set<NodeJS.Timeout>;
};

const MAX_DELIVERY_FAILURES = 5;

/**
 * The embedded broker: per-queue FIFO lanes in this process. Everything in it is lost when the
 * process stops, which is fine: the ledger (or an owner-kept job's own row) keeps the jobs and the
 * sweeper pushes them again.
 */
export function createMemoryDriver(options: { logger: Logger }): QueueDriver {
  const lanes = new Map<string, Lane>();
  const consumers = new Set<{ queues: readonly string[]; pump: () => void }>();
  let closed = false;

  const lane = (queue: string): Lane => {
    let found = lanes.get(queue);
    if (!found) {
      found = { waiting: [], known: new Set(), timers: new Set() };
      lanes.set(queue, found);
    }
    return found;
  };

  const wake = (queue: string) => {
    for (const consumer of consumers) if (consumer.queues.includes(queue)) consumer.pump();
  };

  const schedule = (queue: string, message: Message, delayMs: number) => {
    const target = lane(queue);
    if (delayMs <= 0) {
      target.waiting.push(message);
      wake(queue);
      return;
    }
    const timer = setTimeout(() => {
      target.timers.delete(timer);
      target.waiting.push(message);
      wake(queue);
    }, delayMs);
    timer.unref();
    target.timers.add(timer);
  };

  return {
    kind: 'memory',

    async push({ queue, messageId, jobId, job, delayMs }) {
      if (closed) return;
      const target = lane(queue);
      if (target.known.has(messageId)) return;
      target.known.add(messageId);
      schedule(queue, { messageId, jobId, job, failures: 0 }, delayMs);
    },

    async consume({ queues, concurrency, handle }): Promise<Consumer> {
      const active = new Set<Promise<void>>();
      let stopping = false;

      const runOne = (queue: string, message: Message) => {
        const target = lane(queue);
        const run = handle({ jobId: message.jobId, job: message.job })
          .then(() => {
            target.known.delete(message.messageId);
          })
          .catch((error: unknown) => {
            // Infrastructure failure (e.g. the database is down): deliver again later.
            const failures = message.failures + 1;
            if (failures >= MAX_DELIVERY_FAILURES || closed) {
              target.known.delete(message.messageId);
              options.logger.warn({ err: error, jobId: message.jobId }, 'delivery abandoned');
              return;
            }
            options.logger.warn({ err: error, jobId: message.jobId }, 'delivery failed; retrying');
            schedule(
              queue,
              { ...message, failures },
              retryDelayMs({ failedAttempts: failures, baseMs: 200 }),
            );
          })
          .finally(() => {
            active.delete(run);
            consumer.pump();
          });
        active.add(run);
      };

      const consumer = {
        queues,
        pump: () => {
          while (!stopping && active.size < concurrency) {
            // Take from the first lane that has work, and only from that one.
            const queue = queues.find((name) => (lanes.get(name)?.waiting.length ?? 0) > 0);
            const message = queue === undefined ? undefined : lanes.get(queue)?.waiting.shift();
            if (queue === undefined || !message) return;
            runOne(queue, message);
          }
        },
      };
      consumers.add(consumer);
      consumer.pump();

      return {
        close: async (timeoutMs) => {
          stopping = true;
          consumers.delete(consumer);
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            Promise.allSettled([...active]),
            new Promise((resolve) => {
              timer = setTimeout(resolve, timeoutMs);
            }),
          ]);
          clearTimeout(timer);
        },
      };
    },

    async waiting(queue) {
      const target = lanes.get(queue);
      return target ? target.waiting.length + target.timers.size : 0;
    },

    async ping() {},

    async close() {
      closed = true;
      for (const target of lanes.values()) {
        for (const timer of target.timers) clearTimeout(timer);
        target.timers.clear();
      }
    },
  };
}
