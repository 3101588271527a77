/**
 * A worker in a process of its own, for the crash tests. Modes:
 *   hang: enqueue a job whose first try never ends, report "started", wait to be SIGKILLed.
 *   work: run workers until that job is completed, report the outcome as JSON, exit.
 */
import { openDatabase } from '../../src/platform/db/database.ts';
import { createLogger } from '../../src/platform/logger/logger.ts';
import { createJobQueue } from '../../src/platform/queue/job-queue.ts';
import { createMemoryDriver } from '../../src/platform/queue/memory-driver.ts';
import type { QueueDriver } from '../../src/platform/queue/queue.types.ts';
import { createRedisFactory } from '../../src/platform/redis/redis.ts';
import {
  createEffectsTable,
  createTestHandlers,
  effectRuns,
  type TestJobs,
  testCatalogue,
} from './queue-fixtures.ts';

type Args = {
  mode: 'hang' | 'work';
  database: { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string };
  queue: 'memory' | 'bullmq';
  redis?: { url: string; prefix: string };
  key: string;
};

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const logger = createLogger({ level: 'silent' });
const database =
  args.database.kind === 'pglite'
    ? await openDatabase({ kind: 'pglite', dataDir: args.database.dataDir, logger })
    : await openDatabase({ kind: 'postgres', url: args.database.url, poolMax: 4, logger });
await createEffectsTable(database.db);

let driver: QueueDriver;
if (args.queue === 'bullmq' && args.redis) {
  const { createBullmqDriver } = await import('../../src/platform/queue/bullmq-driver.ts');
  driver = createBullmqDriver({ redis: createRedisFactory({ ...args.redis, logger }), logger });
} else {
  driver = createMemoryDriver({ logger });
}

const queue = createJobQueue<TestJobs>({
  db: database.db,
  driver,
  catalogue: testCatalogue,
  logger,
  leaseMs: 1_000,
  sweepIntervalMs: 100,
});
const jobId = `crash-${args.key}`;
const worker = await queue.startWorker({
  handlers: createTestHandlers(database.db, {
    onHang: (id) => process.stdout.write(`${JSON.stringify({ event: 'started', jobId: id })}\n`),
  }),
  queues: ['beta'],
  concurrency: 2,
});

if (args.mode === 'hang') {
  await queue.enqueue('test.exactly-once', { key: args.key, hang: true }, { jobId });
} else {
  await worker.sweep();
  for (;;) {
    const row = await queue.ledger.get(jobId);
    if (row?.status === 'completed' || row?.status === 'failed') {
      const runs = await effectRuns(database.db, args.key);
      process.stdout.write(
        `${JSON.stringify({ event: 'finished', status: row.status, attempts: row.attempts, runs })}\n`,
      );
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await worker.close(2_000);
  await driver.close();
  await database.close();
  process.exit(0);
}
