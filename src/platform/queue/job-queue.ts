import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createBatcher } from '../db/batcher.ts';
import {
  type Database,
  type Executor,
  postgresErrorCode,
  type Transaction,
} from '../db/database.ts';
import type { Logger } from '../logger/logger.ts';
import { messageIdFor, retryDelayMs } from './backoff.ts';
import { createJobLedger } from './job-ledger.ts';
import type {
  Consumer,
  Delivery,
  EnqueuedJob,
  EnqueueOptions,
  JobCatalogue,
  JobContext,
  JobHandler,
  JobHandlers,
  JobMapShape,
  JobSpec,
  OwnedJob,
  QueueDriver,
} from './queue.types.ts';

const DEFAULTS = { maxAttempts: 5, backoffMs: 1_000 } as const;

/** Tells the handler's owner that the job failed for good; its own failure is only logged. */
async function gaveUp(
  handler: JobHandler<unknown>,
  row: { payload: unknown },
  reason: string,
  log: Logger,
) {
  if (!handler.gaveUp) return;
  try {
    await handler.gaveUp(row.payload, reason);
  } catch (error) {
    log.error({ err: error }, 'could not record that the job failed for good');
  }
}
const SWEEP_BATCH = 500;
/**
 * Ledger writes made at the same time share one statement (group commit, batcher.ts): at most
 * this many rows each, and this many statements of a kind in flight (the pool has more). Each
 * waits for the end of its event-loop turn, also on PostgreSQL: BullMQ hands a worker the jobs
 * of one Redis reply in one turn, and with a free slot the first of them used to be claimed
 * alone (100 of 240 claims of a 3,000-job drain were of one job). Waiting for the turn's end
 * cut PostgreSQL's CPU per job drained by about a third and raised the drain rate by about as
 * much, for well under a millisecond of latency.
 */
export const LEDGER_BATCH = { maxBatch: 200, concurrency: 2, sameTurn: true } as const;

class LeaseLostError extends Error {
  constructor(jobId: string) {
    super(`lease on job ${jobId} was lost to another worker`);
    this.name = 'LeaseLostError';
  }
}

export type JobQueueOptions<M extends JobMapShape> = {
  db: Database;
  driver: QueueDriver;
  catalogue: JobCatalogue<M>;
  logger: Logger;
  leaseMs: number;
  sweepIntervalMs: number;
  /** Told about every finished try, e.g. to count outcomes in metrics. */
  onJobFinished?: (event: { type: string; outcome: 'completed' | 'retried' | 'failed' }) => void;
};

export type WorkerOptions<M extends JobMapShape> = {
  handlers: Partial<JobHandlers<M>>;
  /** Queues to work; all queues of the catalogue when omitted. */
  queues?: readonly string[];
  concurrency: number;
};

export type RunningWorker = {
  readonly id: string;
  readonly queues: readonly string[];
  /** One sweep now; returns how many stranded jobs were handed back to the broker. */
  sweep(): Promise<number>;
  close(timeoutMs: number): Promise<void>;
};

/**
 * The queue port: a ledger row per job in the database plus a broker that carries ids. Enqueue
 * writes the row and then pushes; workers claim the row with a lease before running a handler.
 * Owner-kept job types (`keptBy: 'owner'`) skip the ledger: their owner's row already holds
 * the state, so they cost the broker's work and little more.
 */
export function createJobQueue<M extends JobMapShape>(options: JobQueueOptions<M>) {
  const { db, driver, catalogue, logger } = options;
  const ledger = createJobLedger(db);
  const insertBatched = createBatcher({
    run: ledger.insertMany,
    ...LEDGER_BATCH,
    // A payload the database refuses (data exception, 22xxx) fails only its own enqueue.
    retrySingly: (error) => postgresErrorCode(error)?.startsWith('22') ?? false,
  });

  const specOf = (type: string): Required<JobSpec> => {
    const spec = (catalogue as Record<string, JobSpec | undefined>)[type];
    if (!spec) throw new Error(`unknown job type "${type}"`);
    return {
      queue: spec.queue,
      maxAttempts: spec.maxAttempts ?? DEFAULTS.maxAttempts,
      backoffMs: spec.backoffMs ?? DEFAULTS.backoffMs,
      leaseMs: spec.leaseMs ?? options.leaseMs,
      keptBy: spec.keptBy ?? 'ledger',
    };
  };
  const ownedTypes = Object.entries<JobSpec>(catalogue)
    .filter(([, spec]) => spec.keptBy === 'owner')
    .map(([type]) => type);
  /** Resolved once: an owner-kept delivery costs little more than the broker's work. */
  const ownedSpecs = new Map(ownedTypes.map((type) => [type, specOf(type)]));

  /** Hands an owner-kept job to the broker; its owner's row is what survives losing it. */
  const pushOwned = async (
    queue: string,
    jobId: string,
    job: OwnedJob,
    delayMs: number,
  ): Promise<void> => {
    await driver.push({
      queue,
      messageId: messageIdFor(jobId, job.attempt - 1),
      jobId,
      job,
      delayMs,
    });
  };

  const allQueues = [
    ...new Set(Object.values<JobSpec>(catalogue).map((spec) => spec.queue)),
  ].sort();

  async function record<K extends keyof M & string>(
    executor: Executor,
    type: K,
    payload: M[K],
    enqueueOptions: EnqueueOptions,
  ) {
    const spec = specOf(type);
    const id = enqueueOptions.jobId ?? randomUUID();
    const delayMs = Math.max(0, enqueueOptions.delayMs ?? 0);
    if (spec.keptBy === 'owner') {
      // Nothing to write: the owner's row, committed by the caller, is the job's record.
      const dispatch = () =>
        pushOwned(spec.queue, id, { type, payload, attempt: 1 }, delayMs).catch((error: unknown) =>
          logger.warn({ err: error, jobId: id, type }, 'job not pushed; its owner’s sweeper will'),
        );
      return { job: { id, created: true } satisfies EnqueuedJob, dispatch };
    }
    const job = { id, type, queue: spec.queue, payload, maxAttempts: spec.maxAttempts, delayMs };
    // Outside a transaction, enqueues made at the same time are one INSERT.
    const created = executor === db ? await insertBatched(job) : await ledger.insert(executor, job);
    const dispatch = async () => {
      if (!created) return;
      try {
        await driver.push({
          queue: spec.queue,
          messageId: messageIdFor(id, 0),
          jobId: id,
          delayMs,
        });
      } catch (error) {
        // The row is committed; the sweeper will push it once the broker answers again.
        logger.warn(
          { err: error, jobId: id, type },
          'enqueue reached the ledger but not the broker',
        );
      }
    };
    return { job: { id, created } satisfies EnqueuedJob, dispatch };
  }

  return {
    catalogue,
    queues: allQueues,
    ledger,

    /** Records the job and hands it to the broker. Same `jobId` twice: one job. */
    async enqueue<K extends keyof M & string>(
      type: K,
      payload: M[K],
      enqueueOptions: EnqueueOptions = {},
    ): Promise<EnqueuedJob> {
      const { job, dispatch } = await record(db, type, payload, enqueueOptions);
      await dispatch();
      return job;
    },

    /**
     * Records the job inside the caller's transaction. Call `dispatch()` after the commit; if the
     * process dies before that, the sweeper finds the committed row.
     */
    async enqueueIn<K extends keyof M & string>(
      tx: Transaction,
      type: K,
      payload: M[K],
      enqueueOptions: EnqueueOptions = {},
    ) {
      return record(tx, type, payload, enqueueOptions);
    },

    /** Starts consuming. Refuses to start when a job type of the chosen queues has no handler. */
    async startWorker(workerOptions: WorkerOptions<M>): Promise<RunningWorker> {
      const queues = workerOptions.queues ?? allQueues;
      const unknownQueues = queues.filter((queue) => !allQueues.includes(queue));
      if (unknownQueues.length > 0) {
        throw new Error(
          `unknown queue(s) ${unknownQueues.join(', ')}; known queues: ${allQueues.join(', ')}`,
        );
      }
      const handlers = workerOptions.handlers as Record<string, JobHandler<unknown> | undefined>;
      const missing = Object.entries<JobSpec>(catalogue)
        .filter(
          ([type, spec]) => queues.includes(spec.queue) && typeof handlers[type] !== 'function',
        )
        .map(([type]) => type);
      if (missing.length > 0) {
        throw new Error(`no handler registered for job type(s): ${missing.join(', ')}`);
      }
      const unswept = ownedTypes.filter(
        (type) =>
          queues.includes(specOf(type).queue) && typeof handlers[type]?.stranded !== 'function',
      );
      if (unswept.length > 0) {
        throw new Error(
          `owner-kept job type(s) without a stranded() hook, so nothing would sweep them: ${unswept.join(', ')}`,
        );
      }
      const extra = Object.keys(handlers).filter((type) => !(type in catalogue));
      if (extra.length > 0) {
        throw new Error(`handler(s) for job type(s) not in the catalogue: ${extra.join(', ')}`);
      }

      const workerId = `${process.pid}-${randomUUID().slice(0, 8)}`;
      const workerLog = logger.child({ workerId });
      const shutdown = new AbortController();
      // Every job in flight listens for the shutdown: as many listeners as the concurrency.
      setMaxListeners(0, shutdown.signal);

      // Jobs delivered at the same time are claimed, and completed, in one statement each.
      const claim = createBatcher({
        run: (ids: string[]) => ledger.claimMany(ids, workerId, options.leaseMs),
        ...LEDGER_BATCH,
      });
      const complete = createBatcher({
        run: (ids: string[]) => ledger.completeMany(ids, workerId),
        ...LEDGER_BATCH,
      });

      /**
       * An owner-kept job: no ledger row to claim or complete, no lease to keep (the owner keeps
       * its own). Retries and giving up work as for ledger jobs, counted by delivery.
       */
      const runOwned = async (jobId: string, job: OwnedJob) => {
        const handler = handlers[job.type];
        const resolved = ownedSpecs.get(job.type);
        if (!handler || !resolved || !queues.includes(resolved.queue)) {
          workerLog.warn({ jobId, type: job.type }, 'message for a job this worker does not run');
          return;
        }
        let jobLog: Logger | undefined;
        // A child logger per job costs more than a no-op job; most jobs never log.
        const logOf = () => {
          jobLog ??= workerLog.child({ jobId, type: job.type, attempt: job.attempt });
          return jobLog;
        };
        const context: JobContext = {
          jobId,
          attempt: job.attempt,
          leaseMs: resolved.leaseMs,
          signal: shutdown.signal,
          get logger() {
            return logOf();
          },
          transaction: (work) => db.transaction(work),
        };
        try {
          await handler(job.payload, context);
          options.onJobFinished?.({ type: job.type, outcome: 'completed' });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (job.attempt >= resolved.maxAttempts) {
            await gaveUp(handler, job, message, logOf());
            options.onJobFinished?.({ type: job.type, outcome: 'failed' });
            logOf().error({ err: error }, 'job failed for good');
            return;
          }
          const delayMs = retryDelayMs({ failedAttempts: job.attempt, baseMs: resolved.backoffMs });
          options.onJobFinished?.({ type: job.type, outcome: 'retried' });
          logOf().warn({ err: error, retryInMs: delayMs }, 'job failed; retrying');
          await pushOwned(
            resolved.queue,
            jobId,
            { ...job, attempt: job.attempt + 1 },
            delayMs,
          ).catch((pushError: unknown) =>
            logOf().warn({ err: pushError }, 'retry not pushed; its owner’s sweeper will'),
          );
        }
      };

      const handle = async ({ jobId, job }: Delivery) => {
        if (job) return runOwned(jobId, job);
        const row = await claim(jobId);
        if (!row) return; // done already, not due yet, or held by a live worker
        const handler = handlers[row.type];
        const spec = (catalogue as Record<string, JobSpec | undefined>)[row.type];
        if (!handler || !spec || !queues.includes(spec.queue)) {
          await ledger.release(row.id, workerId);
          return;
        }
        const resolved = specOf(row.type);
        const jobLog = workerLog.child({ jobId: row.id, type: row.type, attempt: row.attempts });
        if (row.attempts > row.maxAttempts) {
          // Only reachable when workers keep dying mid-job: stop feeding it to them.
          const reason = 'gave up: the job outlived its workers too often';
          if (await ledger.fail(row.id, workerId, reason))
            await gaveUp(handler, row, reason, jobLog);
          jobLog.error('job failed: every attempt ended with the worker gone');
          return;
        }

        const lease = new AbortController();
        const onShutdown = () => lease.abort(shutdown.signal.reason);
        shutdown.signal.addEventListener('abort', onShutdown, { once: true });
        const heartbeat = setInterval(
          () => {
            ledger.extendLease(row.id, workerId, resolved.leaseMs).then(
              (held) => {
                if (!held) lease.abort(new LeaseLostError(row.id));
              },
              (error) => jobLog.warn({ err: error }, 'lease heartbeat failed'),
            );
          },
          Math.max(50, Math.floor(resolved.leaseMs / 3)),
        );
        heartbeat.unref();

        let completedInTransaction = false;
        const context: JobContext = {
          jobId: row.id,
          attempt: row.attempts,
          leaseMs: resolved.leaseMs,
          signal: lease.signal,
          logger: jobLog,
          transaction: async (work) =>
            db.transaction(async (tx) => {
              const result = await work(tx);
              if (!(await ledger.complete(tx, row.id, workerId))) throw new LeaseLostError(row.id);
              completedInTransaction = true;
              return result;
            }),
        };

        try {
          await handler(row.payload, context);
          if (!completedInTransaction && !(await complete(row.id))) {
            jobLog.warn('job finished after its lease was lost; the other worker owns the outcome');
          }
          options.onJobFinished?.({ type: row.type, outcome: 'completed' });
          jobLog.debug('job completed');
        } catch (error) {
          if (error instanceof LeaseLostError) {
            jobLog.warn('job abandoned: lease lost to another worker');
            return;
          }
          const message = error instanceof Error ? error.message : String(error);
          if (row.attempts >= row.maxAttempts) {
            if (await ledger.fail(row.id, workerId, message))
              await gaveUp(handler, row, message, jobLog);
            options.onJobFinished?.({ type: row.type, outcome: 'failed' });
            jobLog.error({ err: error }, 'job failed for good');
            return;
          }
          const delayMs = retryDelayMs({
            failedAttempts: row.attempts,
            baseMs: resolved.backoffMs,
          });
          if (await ledger.retryLater(row.id, workerId, message, delayMs)) {
            options.onJobFinished?.({ type: row.type, outcome: 'retried' });
            jobLog.warn({ err: error, retryInMs: delayMs }, 'job failed; retrying');
            await driver
              .push({
                queue: row.queue,
                messageId: messageIdFor(row.id, row.attempts),
                jobId: row.id,
                delayMs,
              })
              .catch((pushError: unknown) =>
                jobLog.warn({ err: pushError }, 'retry not pushed; the sweeper will'),
              );
          }
        } finally {
          clearInterval(heartbeat);
          shutdown.signal.removeEventListener('abort', onShutdown);
        }
      };

      const sweep = async () => {
        const stranded = await ledger.findStranded({
          queues,
          graceMs: options.sweepIntervalMs,
          limit: SWEEP_BATCH,
        });
        for (const job of stranded) {
          await driver.push({
            queue: job.queue,
            messageId: messageIdFor(job.id, job.attempts),
            jobId: job.id,
            delayMs: 0,
          });
        }
        let pushed = stranded.length;
        for (const type of ownedTypes) {
          const spec = specOf(type);
          const find = handlers[type]?.stranded;
          if (!queues.includes(spec.queue) || !find) continue;
          const found = await find({ graceMs: options.sweepIntervalMs, limit: SWEEP_BATCH });
          for (const job of found) {
            // Same message id as the delivery that is due, so a message still waiting is kept.
            await pushOwned(
              spec.queue,
              job.jobId,
              { type, payload: job.payload, attempt: job.tries + 1 },
              0,
            );
          }
          pushed += found.length;
        }
        if (pushed > 0) workerLog.info({ count: pushed }, 'swept stranded jobs');
        return pushed;
      };

      const consumer: Consumer = await driver.consume({
        queues,
        concurrency: workerOptions.concurrency,
        handle,
      });
      let sweeping: Promise<unknown> = Promise.resolve();
      const sweeper = setInterval(() => {
        sweeping = sweep().catch((error: unknown) =>
          workerLog.warn({ err: error }, 'sweep failed'),
        );
      }, options.sweepIntervalMs);
      sweeper.unref();
      workerLog.info({ queues, concurrency: workerOptions.concurrency }, 'worker started');

      return {
        id: workerId,
        queues,
        sweep,
        close: async (timeoutMs) => {
          clearInterval(sweeper);
          const abortTimer = setTimeout(
            () => shutdown.abort(new Error('worker shutting down')),
            timeoutMs,
          );
          try {
            await consumer.close(timeoutMs);
            await sweeping;
          } finally {
            clearTimeout(abortTimer);
          }
          workerLog.info('worker stopped');
        },
      };
    },

    async depth() {
      return ledger.depth();
    },
  };
}

export type JobQueue<M extends JobMapShape> = ReturnType<typeof createJobQueue<M>>;
