import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../src/platform/db/database.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import {
  createJobQueue,
  type JobQueue,
  type RunningWorker,
} from '../src/platform/queue/job-queue.ts';
import type {
  JobCatalogue,
  JobHandler,
  JobHandlers,
  QueueDriver,
} from '../src/platform/queue/queue.types.ts';
import type { RedisFactory } from '../src/platform/redis/redis.ts';
import { backends, createDriver, eventually, testRedis } from './support/backends.ts';
import { createTestDatabase, type TestDatabase } from './support/databases.ts';

const logger = createLogger({ level: 'silent' });

type OwnedJobs = {
  'owned.task': { key: string; failTimes?: number };
  'owned.doomed': { key: string };
};

const catalogue: JobCatalogue<OwnedJobs> = {
  'owned.task': { queue: 'owned', maxAttempts: 4, backoffMs: 30, keptBy: 'owner' },
  'owned.doomed': { queue: 'owned', maxAttempts: 2, backoffMs: 20, keptBy: 'owner' },
};

type Task = { status: string; tries: number; runs: number; outcome: string | null };

/**
 * An owner as the submissions module is one: a row per task holds its status, lease and tries;
 * the handler claims it with a conditional update and writes its outcome only while it holds it.
 */
function createOwner(db: Database) {
  const rows = async (query: ReturnType<typeof sql>) =>
    ((await db.execute(query)) as unknown as { rows: Array<Record<string, unknown>> }).rows;
  return {
    async setUp() {
      await db.execute(sql`create table owned_tasks (
        key text primary key, status text not null default 'queued', tries integer not null default 0,
        runs integer not null default 0, lease_until timestamptz, outcome text,
        created_at timestamptz not null default now())`);
    },
    async add(key: string, createdSecondsAgo = 0) {
      await db.execute(sql`insert into owned_tasks (key, created_at)
        values (${key}, now() - ${createdSecondsAgo}::integer * interval '1 second')`);
    },
    async get(key: string): Promise<Task | undefined> {
      const [row] = await rows(
        sql`select status, tries, runs, outcome from owned_tasks where key = ${key}`,
      );
      return row as Task | undefined;
    },
    handlers(attempts: number[] = [], gate?: Promise<void>): JobHandlers<OwnedJobs> {
      const run = async (key: string, failTimes: number) => {
        if (key === 'blocker') await gate;
        const [claimed] = await rows(sql`update owned_tasks
          set status = 'running', tries = tries + 1, lease_until = now() + interval '1 minute'
          where key = ${key} and (status = 'queued' or status = 'running' and lease_until < now())
          returning tries`);
        if (!claimed) return;
        await db.execute(sql`update owned_tasks set runs = runs + 1 where key = ${key}`);
        if (Number(claimed.tries) <= failTimes) {
          await db.execute(sql`update owned_tasks set lease_until = now() where key = ${key}`);
          throw new Error(`planned failure ${claimed.tries}`);
        }
        await db.execute(
          sql`update owned_tasks set status = 'done', outcome = 'ok' where key = ${key} and status = 'running'`,
        );
      };
      const stranded: JobHandler<{ key: string }>['stranded'] = async ({ graceMs, limit }) =>
        (
          await rows(sql`select key, tries from owned_tasks
            where status in ('queued', 'running')
              and created_at < now() - ${graceMs}::integer * interval '1 millisecond'
              and (lease_until is null or lease_until < now())
            order by created_at limit ${limit}`)
        ).map((row) => ({
          jobId: `task.${row.key}`,
          payload: { key: String(row.key) },
          tries: Number(row.tries),
        }));
      return {
        'owned.task': Object.assign(
          async ({ key, failTimes }: OwnedJobs['owned.task'], context: { attempt: number }) => {
            attempts.push(key === 'blocker' ? 0 : context.attempt);
            await run(key, failTimes ?? 0);
          },
          { stranded },
        ),
        'owned.doomed': Object.assign(async ({ key }: OwnedJobs['owned.doomed']) => run(key, 99), {
          stranded: async () => [],
          gaveUp: async ({ key }: OwnedJobs['owned.doomed'], reason: string) => {
            await db.execute(
              sql`update owned_tasks set status = 'failed', outcome = ${reason} where key = ${key}`,
            );
          },
        }),
      };
    },
  };
}

describe.each(backends())('queue contract, owner-kept jobs: $name', (backend) => {
  let database: TestDatabase;
  let driver: QueueDriver;
  let redis: RedisFactory | undefined;
  let queue: JobQueue<OwnedJobs>;
  let owner: ReturnType<typeof createOwner>;
  const workers: RunningWorker[] = [];

  const start = async (handlers: JobHandlers<OwnedJobs>) => {
    const worker = await queue.startWorker({ handlers, concurrency: 4 });
    workers.push(worker);
    return worker;
  };
  const settled = (key: string) =>
    eventually(
      async () => {
        const task = await owner.get(key);
        return task && (task.status === 'done' || task.status === 'failed') ? task : undefined;
      },
      { what: `task ${key} to settle` },
    );

  beforeEach(async () => {
    database = await createTestDatabase(backend.database);
    owner = createOwner(database.db);
    await owner.setUp();
    redis = backend.queue === 'bullmq' ? testRedis(logger) : undefined;
    driver = await createDriver(backend.queue, logger, redis);
    queue = createJobQueue<OwnedJobs>({
      db: database.db,
      driver,
      catalogue,
      logger,
      leaseMs: 2_000,
      // The tests sweep by hand; a task is stranded after 30 s.
      sweepIntervalMs: 30_000,
    });
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.close(1_000);
    await driver.close();
    await database.destroy();
  });

  it('runs the job with its payload and writes nothing to the ledger', async () => {
    await start(owner.handlers());
    await owner.add('hello');
    const job = await queue.enqueue('owned.task', { key: 'hello' }, { jobId: 'task.hello' });
    expect(job).toEqual({ id: 'task.hello', created: true });
    expect(await settled('hello')).toMatchObject({ status: 'done', tries: 1, runs: 1 });
    expect(await queue.ledger.get('task.hello')).toBeUndefined();
    expect(await queue.depth()).toEqual([]);
  });

  it('retries a failing job with growing delays, counting the deliveries', async () => {
    const attempts: number[] = [];
    await start(owner.handlers(attempts));
    await owner.add('flaky');
    await queue.enqueue('owned.task', { key: 'flaky', failTimes: 2 }, { jobId: 'task.flaky' });
    expect(await settled('flaky')).toMatchObject({ status: 'done', tries: 3, runs: 3 });
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('tells the owner when the last try failed', async () => {
    await start(owner.handlers());
    await owner.add('doomed');
    await queue.enqueue('owned.doomed', { key: 'doomed' }, { jobId: 'task.doomed' });
    expect(await settled('doomed')).toMatchObject({
      status: 'failed',
      runs: 2,
      outcome: 'planned failure 2',
    });
  });

  it('runs a job delivered twice once: the owner’s claim decides', async () => {
    const attempts: number[] = [];
    await owner.add('twice');
    const job = { type: 'owned.task', payload: { key: 'twice' }, attempt: 1 };
    await driver.push({ queue: 'owned', messageId: 'first', jobId: 'task.twice', job, delayMs: 0 });
    await driver.push({ queue: 'owned', messageId: 'again', jobId: 'task.twice', job, delayMs: 0 });
    await start(owner.handlers(attempts));
    await eventually(() => (attempts.length === 2 ? true : undefined));
    expect(await settled('twice')).toMatchObject({ status: 'done', runs: 1 });
  });

  it('pushes again what the owner says is stranded, and only that (sweeper)', async () => {
    // Committed rows whose message never reached the broker (a crash, or Redis lost them).
    await owner.add('lost', 60);
    await owner.add('fresh');
    const staged = await database.db.transaction((tx) =>
      queue.enqueueIn(tx, 'owned.task', { key: 'lost' }, { jobId: 'task.lost' }),
    );
    expect(staged.job.created).toBe(true);
    const worker = await start(owner.handlers());
    expect(await worker.sweep()).toBe(1);
    expect(await settled('lost')).toMatchObject({ status: 'done', runs: 1 });
    expect(await owner.get('fresh')).toMatchObject({ status: 'queued', runs: 0 });
    expect(await worker.sweep()).toBe(0);
  });

  it('does not double a message still waiting when the sweeper pushes the same job', async () => {
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const attempts: number[] = [];
    // One slot, held by a blocker, so the next job waits in the broker.
    const worker = await queue.startWorker({
      handlers: owner.handlers(attempts, gate),
      concurrency: 1,
    });
    workers.push(worker);
    await owner.add('blocker');
    await queue.enqueue('owned.task', { key: 'blocker' }, { jobId: 'task.blocker' });
    await eventually(() => (attempts.length === 1 ? true : undefined));
    await owner.add('waiting', 60);
    await queue.enqueue('owned.task', { key: 'waiting' }, { jobId: 'task.waiting' });
    expect(await driver.waiting('owned')).toBe(1);
    // Stranded by the owner's rule (queued a minute ago), but its message is still there.
    expect(await worker.sweep()).toBe(1);
    expect(await driver.waiting('owned')).toBe(1);
    open();
    expect(await settled('waiting')).toMatchObject({ status: 'done', runs: 1 });
    await eventually(() => (attempts.length === 2 ? true : undefined));
    expect(attempts).toEqual([0, 1]);
  });

  it('refuses to start a worker when an owner-kept job type has no stranded hook', async () => {
    const { 'owned.task': task, 'owned.doomed': doomed } = owner.handlers();
    await expect(
      queue.startWorker({
        handlers: {
          'owned.task': async (payload, context) => task(payload, context),
          'owned.doomed': doomed,
        },
        concurrency: 1,
      }),
    ).rejects.toThrow(/owned\.task/);
  });
});
