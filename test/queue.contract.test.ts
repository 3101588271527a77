import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/platform/logger/logger.ts';
import { claimStatement, completeStatement } from '../src/platform/queue/job-ledger.ts';
import {
  createJobQueue,
  type JobQueue,
  type RunningWorker,
} from '../src/platform/queue/job-queue.ts';
import type { QueueDriver } from '../src/platform/queue/queue.types.ts';
import type { RedisFactory } from '../src/platform/redis/redis.ts';
import { backends, createDriver, eventually, testRedis } from './support/backends.ts';
import { spawnTsChild } from './support/child-process.ts';
import { createTestDatabase, type TestDatabase } from './support/databases.ts';
import {
  createEffectsTable,
  createTestHandlers,
  effectRuns,
  type TestJobs,
  testCatalogue,
} from './support/queue-fixtures.ts';
import { holdRowLock } from './support/row-lock.ts';

const logger = createLogger({ level: 'silent' });

describe.each(backends())('queue contract: $name', (backend) => {
  let database: TestDatabase;
  let driver: QueueDriver;
  let redis: RedisFactory | undefined;
  let queue: JobQueue<TestJobs>;
  const workers: RunningWorker[] = [];

  const newQueue = (queueDriver: QueueDriver) =>
    createJobQueue<TestJobs>({
      db: database.db,
      driver: queueDriver,
      catalogue: testCatalogue,
      logger,
      leaseMs: 2_000,
      sweepIntervalMs: 100,
    });

  const start = async (
    target: JobQueue<TestJobs>,
    seen = new Map<string, number>(),
    queues = ['alpha', 'beta'],
  ) => {
    const worker = await target.startWorker({
      handlers: createTestHandlers(database.db, { seen }),
      queues,
      concurrency: 4,
    });
    workers.push(worker);
    return { worker, seen };
  };

  const statusOf = async (id: string) => (await queue.ledger.get(id))?.status;
  const finished = (id: string) =>
    eventually(
      async () => {
        const row = await queue.ledger.get(id);
        return row && (row.status === 'completed' || row.status === 'failed') ? row : undefined;
      },
      { what: `job ${id} to finish` },
    );

  beforeEach(async () => {
    database = await createTestDatabase(backend.database);
    await createEffectsTable(database.db);
    redis = backend.queue === 'bullmq' ? testRedis(logger) : undefined;
    driver = await createDriver(backend.queue, logger, redis);
    queue = newQueue(driver);
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.close(1_000);
    await driver.close();
    await database.destroy();
  });

  it('runs an enqueued job with its payload, once', async () => {
    await start(queue);
    const job = await queue.enqueue('test.record', { key: 'hello' });
    expect(job.created).toBe(true);
    const row = await finished(job.id);
    expect(row.status).toBe('completed');
    expect(row.attempts).toBe(1);
    expect(await effectRuns(database.db, 'hello')).toBe(1);
  });

  it('treats the same job id as the same job (dedupe)', async () => {
    const first = await queue.enqueue('test.record', { key: 'dedupe' }, { jobId: 'report.42' });
    const second = await queue.enqueue('test.record', { key: 'dedupe' }, { jobId: 'report.42' });
    expect(first).toEqual({ id: 'report.42', created: true });
    expect(second).toEqual({ id: 'report.42', created: false });
    const { seen } = await start(queue);
    await finished('report.42');
    // A third enqueue after completion does not run it again either.
    expect(
      (await queue.enqueue('test.record', { key: 'dedupe' }, { jobId: 'report.42' })).created,
    ).toBe(false);
    await queue.enqueue('test.record', { key: 'after' });
    await eventually(() => effectRuns(database.db, 'after'));
    expect(seen.get('dedupe')).toBe(1);
    expect(await effectRuns(database.db, 'dedupe')).toBe(1);
  });

  it('enqueues made at the same time become their jobs; one delivered many times at once is claimed once', async () => {
    // Concurrent enqueues share one INSERT (group commit): each still learns whether it was new.
    const enqueued = await Promise.all([
      ...Array.from({ length: 30 }, (_, index) =>
        queue.enqueue('test.record', { key: `burst-${index}` }),
      ),
      queue.enqueue('test.record', { key: 'twice' }, { jobId: 'same.1' }),
      queue.enqueue('test.record', { key: 'twice' }, { jobId: 'same.1' }),
    ]);
    expect(enqueued.filter((job) => job.created)).toHaveLength(31);
    expect(enqueued.slice(-2).map((job) => job.created)).toEqual([true, false]);
    // A payload the database refuses (NUL in jsonb text) fails alone, even in a shared INSERT.
    // (the first two run alone, two statements being in flight at most; the rest share one).
    const mixed = await Promise.allSettled(
      ['fine-1', 'fine-2', 'fine-3', 'bad\u0000key', 'fine-4', 'fine-5'].map((key) =>
        queue.enqueue('test.record', { key }),
      ),
    );
    expect(mixed.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    for (const result of mixed) if (result.status === 'fulfilled') enqueued.push(result.value);
    // The same id delivered several times at once is claimed in one statement, by one only.
    const claimed = await queue.ledger.claimMany(
      ['same.1', 'no-such-job', 'same.1', 'same.1'],
      'w1',
      60_000,
    );
    expect(claimed.map((row) => row?.id ?? null)).toEqual(['same.1', null, null, null]);
    expect(await queue.ledger.completeMany(['same.1', 'same.1'], 'w2')).toEqual([false, false]);
    expect(await queue.ledger.completeMany(['same.1', 'same.1'], 'w1')).toEqual([true, false]);
    const { seen } = await start(queue);
    await Promise.all(enqueued.map((job) => finished(job.id)));
    for (let index = 0; index < 30; index += 1) expect(seen.get(`burst-${index}`)).toBe(1);
    // Completed above without running: it is done, whoever delivers it again.
    expect(seen.get('twice')).toBeUndefined();
  });

  it('a delayed enqueue is due only after its delay, also in a shared INSERT', async () => {
    const [later, now] = await Promise.all([
      queue.enqueue('test.record', { key: 'later' }, { delayMs: 60_000 }),
      queue.enqueue('test.record', { key: 'now' }),
    ]);
    const dueIn = async (id: string) => {
      const row = await queue.ledger.get(id);
      return row!.runAt.getTime() - row!.createdAt.getTime();
    };
    expect(await dueIn(later.id)).toBeGreaterThanOrEqual(59_000);
    expect(await dueIn(later.id)).toBeLessThanOrEqual(61_000);
    expect(Math.abs(await dueIn(now.id))).toBeLessThan(1_000);
    // Not claimable before it is due.
    expect(await queue.ledger.claimMany([later.id], 'w1', 60_000)).toEqual([undefined]);
  });

  it('claims and completes by id alone, however many jobs are waiting', async () => {
    // A burst: thousands of jobs pending, the table's statistics not yet gathered. A plan that
    // reads a status index here reads every pending job for each claim of a few.
    await queue.ledger.insertMany(
      Array.from({ length: 3_000 }, (_, index) => ({
        id: `burst.${index}`,
        type: 'test.record',
        queue: 'alpha',
        payload: { key: `burst-${index}` },
        maxAttempts: 3,
        delayMs: 0,
      })),
    );
    // A claim as large as a worker's concurrency: the case that went wrong.
    const batch = Array.from({ length: 50 }, (_, index) => `burst.${index * 60}`);
    const ids = sql.param(batch);
    const workerId = sql.param('w1');
    for (const statement of [
      claimStatement({ ids, workerId, leaseMs: sql.param(60_000) }),
      completeStatement({ ids, workerId }),
    ]) {
      const result = await database.db.execute(sql`explain (format json) ${statement}`);
      const [{ 'QUERY PLAN': plan }] = (result as unknown as { rows: [{ 'QUERY PLAN': unknown }] })
        .rows;
      // No index on status: its estimate is what is stale. (A sequential scan is the
      // planner's honest choice for a table this small, and the primary key's once it grows.)
      const indexes = new Set<string>();
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) node.forEach(walk);
        else if (node && typeof node === 'object') {
          const record = node as Record<string, unknown>;
          if (typeof record['Index Name'] === 'string') indexes.add(record['Index Name']);
          Object.values(record).forEach(walk);
        }
      };
      walk(typeof plan === 'string' ? JSON.parse(plan) : plan);
      expect([...indexes].filter((index) => index !== 'jobs_pkey')).toEqual([]);
    }
    const claimed = await queue.ledger.claimMany(batch, 'w1', 60_000);
    expect(claimed.map((row) => row?.id)).toEqual(batch);
    expect(await queue.ledger.completeMany(batch, 'w1')).toEqual(batch.map(() => true));
  });

  // PGlite has one connection: a transaction holding a lock there blocks every other statement.
  it.runIf(backend.database === 'postgres')(
    'a claim skips a row locked right now instead of holding up the rest of its batch',
    async () => {
      const locked = await queue.enqueue('test.record', { key: 'locked' });
      const free = await queue.enqueue('test.record', { key: 'free' });
      const lock = await holdRowLock(
        database.db,
        sql`select id from jobs where id = ${locked.id} for update`,
      );
      const claimed = await queue.ledger.claimMany([locked.id, free.id], 'w1', 60_000);
      expect(claimed.map((row) => row?.id ?? null)).toEqual([null, free.id]);
      await lock.release();
      // Still pending: the next delivery (or the sweeper) takes it.
      expect(await statusOf(locked.id)).toBe('pending');
      const [again] = await queue.ledger.claimMany([locked.id], 'w1', 60_000);
      expect(again?.id).toBe(locked.id);
    },
  );

  it('retries a failing job with growing delays until it succeeds', async () => {
    await start(queue);
    const job = await queue.enqueue('test.flaky', { key: 'flaky', failTimes: 2 });
    const row = await finished(job.id);
    expect(row.status).toBe('completed');
    expect(row.attempts).toBe(3);
    expect(await effectRuns(database.db, 'flaky')).toBe(1);
  });

  it('marks a job failed after its last attempt, keeping the error', async () => {
    await start(queue);
    const job = await queue.enqueue('test.always-fails', { key: 'doomed' });
    const row = await finished(job.id);
    expect(row.status).toBe('failed');
    expect(row.attempts).toBe(2);
    expect(row.lastError).toBe('this job never works');
    // Its owner is told once, with the reason, so nothing waits on the job forever.
    await eventually(() => effectRuns(database.db, 'gave up doomed: this job never works'));
    expect(await effectRuns(database.db, 'gave up doomed: this job never works')).toBe(1);
  });

  it('refuses to start a worker when a job type has no handler', async () => {
    const { 'test.flaky': _missing, ...partial } = createTestHandlers(database.db);
    await expect(
      queue.startWorker({ handlers: partial, queues: ['alpha'], concurrency: 1 }),
    ).rejects.toThrow(/no handler registered for job type\(s\): test\.flaky/);
    // Only the queues it works are checked: gamma's handler is not needed for alpha + beta.
    const { 'test.other-queue': _other, ...withoutGamma } = createTestHandlers(database.db);
    const worker = await queue.startWorker({
      handlers: withoutGamma,
      queues: ['alpha', 'beta'],
      concurrency: 1,
    });
    workers.push(worker);
    await expect(
      queue.startWorker({ handlers: withoutGamma, queues: ['nope'], concurrency: 1 }),
    ).rejects.toThrow(/unknown queue/);
  });

  it('only runs jobs of the queues a worker subscribed to', async () => {
    await start(queue, new Map(), ['alpha']);
    const other = await queue.enqueue('test.other-queue', { key: 'gamma-job' });
    const mine = await queue.enqueue('test.record', { key: 'alpha-job' });
    await finished(mine.id);
    expect(await statusOf(other.id)).toBe('pending');
  });

  it('runs jobs waiting on several queues at once, none left behind', async () => {
    // Enqueued before any worker: every queue has a backlog when the worker starts.
    const jobs = [];
    for (let index = 0; index < 6; index++) {
      jobs.push(await queue.enqueue('test.record', { key: `alpha-${index}` }));
      jobs.push(await queue.enqueue('test.other-queue', { key: `gamma-${index}` }));
    }
    await start(queue, new Map(), ['alpha', 'gamma']);
    for (const job of jobs) expect((await finished(job.id)).status).toBe('completed');
  });

  it('lets a running job finish when the worker is closed within its bound', async () => {
    let started = false;
    const worker = await queue.startWorker({
      handlers: createTestHandlers(database.db, { onHang: () => (started = true) }),
      queues: ['alpha'],
      concurrency: 1,
    });
    const job = await queue.enqueue('test.slow', { key: 'slow', ms: 400 });
    await eventually(() => (started ? true : undefined));
    await worker.close(5_000);
    expect(await statusOf(job.id)).toBe('completed');
    expect(await effectRuns(database.db, 'slow')).toBe(1);
  });

  it('picks up a job whose enqueue never reached the broker (sweeper)', async () => {
    // Committed row, no broker message: what a crash between commit and push leaves behind.
    const staged = await database.db.transaction((tx) =>
      queue.enqueueIn(tx, 'test.record', { key: 'lost' }),
    );
    expect(staged.job.created).toBe(true);
    const { worker } = await start(queue);
    await eventually(async () => ((await worker.sweep()) >= 0 ? true : undefined));
    const row = await finished(staged.job.id);
    expect(row.status).toBe('completed');
    expect(await effectRuns(database.db, 'lost')).toBe(1);
  });

  it('runs each job exactly once with two workers competing', async () => {
    const secondDriver = await createDriver(backend.queue, logger, redis);
    const secondQueue = newQueue(secondDriver);
    try {
      const seenA = new Map<string, number>();
      const seenB = new Map<string, number>();
      await start(queue, seenA);
      await start(secondQueue, seenB);
      const ids: string[] = [];
      for (let index = 0; index < 30; index++) {
        ids.push((await queue.enqueue('test.exactly-once', { key: `race-${index}` })).id);
      }
      // The memory broker is per process, so the second worker gets its share through the sweeper.
      for (const id of ids) await finished(id);
      for (let index = 0; index < 30; index++)
        expect(await effectRuns(database.db, `race-${index}`)).toBe(1);
    } finally {
      for (const worker of workers.splice(0)) await worker.close(1_000);
      await secondDriver.close();
    }
  });

  it('completes a job exactly once after its worker is SIGKILLed mid-job', async () => {
    await driver.close();
    const location = database.location;
    if (location.kind === 'pglite') await database.close(); // one process at a time may open PGlite
    const redisSettings = redis ? { url: redis.url, prefix: redis.prefix } : undefined;
    const args = { database: location, queue: backend.queue, redis: redisSettings, key: 'crash' };

    const hanging = spawnTsChild('test/support/queue-child.ts', { ...args, mode: 'hang' });
    const started = await hanging.next('started');
    expect(started.jobId).toBe('crash-crash');
    hanging.process.kill('SIGKILL');
    await hanging.exited;

    const worker = spawnTsChild('test/support/queue-child.ts', { ...args, mode: 'work' });
    const outcome = await worker.next('finished');
    await worker.exited;
    expect(outcome).toMatchObject({ status: 'completed', attempts: 2, runs: 1 });
    if (location.kind === 'pglite') database = await createReopened(database);
    driver = await createDriver(backend.queue, logger, redis);
  });
});

async function createReopened(previous: TestDatabase): Promise<TestDatabase> {
  // Reopen so afterEach can destroy it the usual way.
  const { openDatabase } = await import('../src/platform/db/database.ts');
  if (previous.location.kind !== 'pglite') return previous;
  const handle = await openDatabase({ kind: 'pglite', dataDir: previous.location.dataDir, logger });
  return { ...previous, ...handle, destroy: previous.destroy };
}
