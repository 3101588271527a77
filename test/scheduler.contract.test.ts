import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createTestClock } from '../src/platform/clock/clock.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import { createJobQueue } from '../src/platform/queue/job-queue.ts';
import type { JobCatalogue, JobHandlers, QueueDriver } from '../src/platform/queue/queue.types.ts';
import { createBullmqScheduler } from '../src/platform/scheduler/bullmq-scheduler.ts';
import { createTimerScheduler, tickJobId, tickOf } from '../src/platform/scheduler/scheduler.ts';
import { createDriver, eventually, testRedis } from './support/backends.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.ts';

type TickJobs = { 'test.tick': { label: string } };
const catalogue: JobCatalogue<TickJobs> = { 'test.tick': { queue: 'ticks' } };
const logger = createLogger({ level: 'silent' });

/** Two schedulers stand for two processes: they share only the database (and Redis). */
function twoProcesses(database: TestDatabase, drivers: [QueueDriver, QueueDriver]) {
  return drivers.map((driver) =>
    createJobQueue<TickJobs>({
      db: database.db,
      driver,
      catalogue,
      logger,
      leaseMs: 5_000,
      sweepIntervalMs: 200,
    }),
  );
}

describe.each(databaseKinds())('timer scheduler on %s', (kind) => {
  let database: TestDatabase;
  let drivers: [QueueDriver, QueueDriver];
  const stops: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    drivers = [await createDriver('memory', logger), await createDriver('memory', logger)];
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    for (const driver of drivers) await driver.close();
    await database.destroy();
  });

  it('creates one job per tick however many processes fire it', async () => {
    const clock = createTestClock('2026-12-01T10:00:00.000Z');
    const schedule = {
      name: 'digest',
      everyMs: 60_000,
      type: 'test.tick' as const,
      payload: { label: 'digest' },
    };
    const [queueA, queueB] = twoProcesses(database, drivers);
    const a = createTimerScheduler({ queue: queueA!, schedules: [schedule], clock, logger });
    const b = createTimerScheduler({ queue: queueB!, schedules: [schedule], clock, logger });
    await a.fireDue(clock.now());
    await b.fireDue(clock.now());
    clock.advance(30_000); // same tick
    await b.fireDue(clock.now());
    clock.advance(30_000); // next tick
    await a.fireDue(clock.now());
    await b.fireDue(clock.now());

    const first = tickOf(new Date('2026-12-01T10:00:00.000Z'), 60_000);
    expect((await queueA!.ledger.get(tickJobId('digest', first)))?.status).toBe('pending');
    expect((await queueA!.ledger.get(tickJobId('digest', first + 60_000)))?.status).toBe('pending');
    expect(await queueA!.depth()).toEqual([{ queue: 'ticks', status: 'pending', count: 2 }]);
  });

  it('fires on real timers and each tick runs once across two processes', async () => {
    const runs: string[] = [];
    const handlers: JobHandlers<TickJobs> = {
      'test.tick': async (_payload, context) => {
        runs.push(context.jobId);
      },
    };
    const queues = twoProcesses(database, drivers);
    const schedule = {
      name: 'fast',
      everyMs: 150,
      type: 'test.tick' as const,
      payload: { label: 'fast' },
    };
    for (const queue of queues) {
      const worker = await queue.startWorker({ handlers, concurrency: 2 });
      const scheduler = createTimerScheduler({
        queue,
        schedules: [schedule],
        clock: { now: () => new Date() },
        logger,
      });
      await scheduler.start();
      stops.unshift(() => worker.close(1_000));
      stops.unshift(() => scheduler.stop());
    }
    await eventually(() => (runs.length >= 4 ? true : undefined), { timeoutMs: 5_000 });
    expect(new Set(runs).size).toBe(runs.length);
  });
});

describe.runIf(inject('redis') !== null)('bullmq scheduler', () => {
  let database: TestDatabase;
  let drivers: [QueueDriver, QueueDriver];
  const stops: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    database = await createTestDatabase(
      databaseKinds().includes('postgres') ? 'postgres' : 'pglite',
    );
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    for (const driver of drivers) await driver.close();
    await database.destroy();
  });

  it('delivers each tick to one of several processes', async () => {
    const redis = testRedis(logger);
    drivers = [
      await createDriver('bullmq', logger, redis),
      await createDriver('bullmq', logger, redis),
    ];
    const runs: string[] = [];
    const handlers: JobHandlers<TickJobs> = {
      'test.tick': async (_payload, context) => {
        runs.push(context.jobId);
      },
    };
    const schedule = {
      name: 'fast',
      everyMs: 200,
      type: 'test.tick' as const,
      payload: { label: 'fast' },
    };
    for (const queue of twoProcesses(database, drivers)) {
      const worker = await queue.startWorker({ handlers, concurrency: 2 });
      const scheduler = createBullmqScheduler({ queue, schedules: [schedule], redis, logger });
      await scheduler.start();
      stops.unshift(() => worker.close(1_000));
      stops.unshift(() => scheduler.stop());
    }
    await eventually(() => (runs.length >= 4 ? true : undefined), { timeoutMs: 8_000 });
    expect(new Set(runs).size).toBe(runs.length);
    const ticks = runs.map((id) => Number(id.split('.').at(-1)));
    for (const tick of ticks) expect(tick % 200).toBe(0);
  });
});
