import { sql } from 'drizzle-orm';
import type { Database } from '../../src/platform/db/database.ts';
import type { JobCatalogue, JobHandlers } from '../../src/platform/queue/queue.types.ts';

/** Job types that exist only in tests; each one exercises one rule of the queue port. */
export type TestJobs = {
  'test.record': { key: string };
  'test.flaky': { key: string; failTimes: number };
  'test.always-fails': { key: string };
  'test.exactly-once': { key: string; hang?: boolean };
  'test.other-queue': { key: string };
  'test.slow': { key: string; ms: number };
};

export const testCatalogue: JobCatalogue<TestJobs> = {
  'test.record': { queue: 'alpha' },
  'test.flaky': { queue: 'alpha', maxAttempts: 4, backoffMs: 40 },
  'test.always-fails': { queue: 'alpha', maxAttempts: 2, backoffMs: 20 },
  'test.exactly-once': { queue: 'beta', leaseMs: 1_000 },
  'test.other-queue': { queue: 'gamma' },
  'test.slow': { queue: 'alpha' },
};

export async function createEffectsTable(db: Database) {
  await db.execute(
    sql`create table if not exists test_effects (key text primary key, runs integer not null default 1)`,
  );
}

export async function effectRuns(db: Database, key: string): Promise<number | undefined> {
  const result = (await db.execute(
    sql`select runs from test_effects where key = ${key}`,
  )) as unknown as {
    rows: Array<{ runs: number }>;
  };
  return result.rows[0]?.runs;
}

const recordEffect = (executor: Pick<Database, 'execute'>, key: string) =>
  executor.execute(
    sql`insert into test_effects (key) values (${key}) on conflict (key) do update set runs = test_effects.runs + 1`,
  );

/** Handlers whose visible effect is a row in test_effects. */
export function createTestHandlers(
  db: Database,
  options: { onHang?: (jobId: string) => void; seen?: Map<string, number> } = {},
): JobHandlers<TestJobs> {
  const seen = options.seen ?? new Map<string, number>();
  const bump = (key: string) => {
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    return count;
  };
  return {
    'test.record': async ({ key }) => {
      bump(key);
      await recordEffect(db, key);
    },
    'test.flaky': async ({ key, failTimes }) => {
      if (bump(key) <= failTimes) throw new Error(`planned failure ${seen.get(key)}`);
      await recordEffect(db, key);
    },
    'test.always-fails': Object.assign(
      async ({ key }: TestJobs['test.always-fails']) => {
        bump(key);
        throw new Error('this job never works');
      },
      {
        // Its owner records the give-up (the key carries the reason it was told).
        gaveUp: async ({ key }: TestJobs['test.always-fails'], reason: string) => {
          await recordEffect(db, `gave up ${key}: ${reason}`);
        },
      },
    ),
    'test.exactly-once': async ({ key, hang }, context) => {
      bump(key);
      if (hang && context.attempt === 1) {
        options.onHang?.(context.jobId);
        await new Promise(() => {}); // held until the process is killed
      }
      await context.transaction(async (tx) => {
        await recordEffect(tx, key);
      });
    },
    'test.slow': async ({ key, ms }, context) => {
      bump(key);
      options.onHang?.(context.jobId);
      await new Promise((resolve) => setTimeout(resolve, ms));
      await recordEffect(db, key);
    },
    'test.other-queue': async ({ key }) => {
      bump(key);
      await recordEffect(db, key);
    },
  };
}
