import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppEvents } from '../../src/jobs.ts';
import type { SubmissionEvent } from '../../src/modules/submissions/submissions.service.ts';
import { createRedisEventBus } from '../../src/platform/events/redis-event-bus.ts';
import { createLogger } from '../../src/platform/logger/logger.ts';
import { createRedisFactory } from '../../src/platform/redis/redis.ts';
import { assay, cleanEnv, freePort, type Server, startAssay, tempDataDir } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

/**
 * Judging with the API and the workers in processes of their own, on PostgreSQL and Redis, as
 * in production: a worker killed mid-judging, Redis losing every queued job, a burst. Runs
 * when the suite has both servers (CI's second pass).
 */
const redisSettings = inject('redis');
const runs = inject('postgresTemplate') !== null && redisSettings !== null;

const A_PLUS_B = 'a, b = map(int, input().split())\nprint(a + b)\n';
// About six seconds of judging (four tests), long enough to kill its worker in the middle.
const SLOW_A_PLUS_B = `import time\ntime.sleep(1.5)\n${A_PLUS_B}`;

describe.runIf(runs)('judging across processes', () => {
  const logger = createLogger({ level: 'silent' });
  const prefix = `assay-judging-${randomBytes(4).toString('hex')}`;
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let api: Server;
  let removeData: () => Promise<void>;
  const workers: Server[] = [];
  const events: SubmissionEvent[] = [];
  let stopListening: () => Promise<void>;
  let bus: ReturnType<typeof createRedisEventBus<AppEvents>>;
  let token = '';
  let challengeId = '';

  const call = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(api.url(`/api/v1${path}`), {
      method: init.method ?? 'GET',
      headers: {
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const startWorker = async () => {
    const worker = await startAssay(['worker', '--queues', 'judge'], env, /worker is running/);
    workers.push(worker);
    return worker;
  };
  const submit = async (source: string) => {
    const response = await call('/submissions', {
      method: 'POST',
      body: { challengeId, language: 'python', source },
    });
    expect(response.status).toBe(202);
    return response.body.id as string;
  };
  const statusOf = async (id: string) => (await call(`/submissions/${id}`)).body;
  const untilJudged = async (ids: string[], timeout = 90_000) => {
    await expect
      .poll(
        async () => {
          const states = await Promise.all(ids.map(async (id) => (await statusOf(id)).status));
          return states.every((state) => state === 'completed' || state === 'failed');
        },
        { timeout, interval: 250 },
      )
      .toBe(true);
  };
  const judgedEvents = (id: string) =>
    events.filter((event) => event.submissionId === id && event.status === 'completed').length;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    if (database.location.kind !== 'postgres') throw new Error('expected postgres');
    const data = await tempDataDir();
    removeData = data.remove;
    env = cleanEnv({
      DATA_DIR: data.dir,
      DATABASE_URL: database.location.url,
      REDIS_URL: redisSettings!.url,
      REDIS_PREFIX: prefix,
      JWT_SECRET: 'judging-e2e-secret-that-is-long-enough',
      PORT: String(await freePort()),
      // A killed worker's lease runs out in 2 s, and the sweeper looks every 0.5 s.
      JOB_LEASE_MS: '2000',
      JOB_SWEEP_INTERVAL_MS: '500',
      RATE_LIMIT_RUNS_PER_MINUTE: '1000',
      RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '1000',
      RATE_LIMIT_USER_PER_MINUTE: '100000',
    });
    for (const [role, email] of [
      ['instructor', 'author@judging.test'],
      ['student', 'pupil@judging.test'],
    ] as const) {
      const created = await assay(
        [
          'users',
          'create',
          '--email',
          email,
          '--name',
          role,
          '--role',
          role,
          '--password',
          'a long password',
        ],
        env,
      );
      expect(created.code, created.stderr).toBe(0);
    }
    api = await startAssay(['serve', '--no-workers'], env);
    bus = createRedisEventBus<AppEvents>({
      redis: createRedisFactory({ url: redisSettings!.url, prefix, logger }),
      logger,
    });
    stopListening = await bus.subscribe('submissions.changed', (event) => {
      events.push(event);
    });
    const login = async (email: string) =>
      (await call('/auth/login', { method: 'POST', body: { email, password: 'a long password' } }))
        .body.accessToken as string;
    token = await login('author@judging.test');
    const challenge = await call('/challenges', {
      method: 'POST',
      body: { title: 'A + B', statement: 'Add.', languages: ['python'], points: 10 },
    });
    expect(challenge.status).toBe(201);
    challengeId = challenge.body.id as string;
    const tests = await call(`/challenges/${challengeId}/testcases`, {
      method: 'POST',
      body: [
        { input: '1 2\n', expectedOutput: '3\n' },
        { input: '2 2\n', expectedOutput: '4\n' },
        { input: '5 5\n', expectedOutput: '10\n', hidden: true },
        { input: '-1 1\n', expectedOutput: '0\n', hidden: true },
      ],
    });
    expect(tests.status).toBeLessThan(300);
    token = await login('pupil@judging.test');
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) await worker.stop('SIGKILL');
    await api?.stop();
    await stopListening?.();
    await bus?.close();
    const client = new Redis(redisSettings!.url);
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
    client.disconnect();
    await database?.destroy();
    await removeData?.();
  });

  it('completes a submission once when its worker is SIGKILLed mid-judging', async () => {
    const first = await startWorker();
    const id = await submit(SLOW_A_PLUS_B);
    await expect.poll(async () => (await statusOf(id)).status, { timeout: 30_000 }).toBe('running');
    first.process.kill('SIGKILL');
    await first.exited;
    await startWorker();
    await untilJudged([id]);
    expect(await statusOf(id)).toMatchObject({
      status: 'completed',
      verdict: 'accepted',
      score: 10,
    });
    // One result, one "judged" event, however many tries it took.
    await expect.poll(() => judgedEvents(id), { timeout: 5_000 }).toBe(1);
  }, 120_000);

  it('re-enqueues and completes everything when Redis loses its queued jobs', async () => {
    for (const worker of workers.splice(0)) await worker.stop('SIGKILL');
    const ids = [await submit(A_PLUS_B), await submit(A_PLUS_B), await submit(A_PLUS_B)];
    // What a FLUSHALL does to this deployment, limited to its own keys: the suite's other files
    // share this Redis server.
    const client = new Redis(redisSettings!.url);
    let cursor = '0';
    let removed = 0;
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) removed += await client.del(...keys);
    } while (cursor !== '0');
    client.disconnect();
    expect(removed).toBeGreaterThan(0);
    await startWorker();
    await untilJudged(ids);
    for (const id of ids) {
      expect(await statusOf(id)).toMatchObject({ verdict: 'accepted' });
      expect(judgedEvents(id)).toBe(1);
    }
  }, 120_000);

  it('streams progress to the API process’s SSE clients while another process judges', async () => {
    const id = await submit(SLOW_A_PLUS_B);
    const response = await fetch(api.url(`/api/v1/submissions/${id}/events`), {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    });
    expect(response.status).toBe(200);
    // The stream ends itself after the result: read it to the end.
    const text = await response.text();
    const events = text
      .split('\n\n')
      .map((block) => ({
        event: /^event: (.+)$/m.exec(block)?.[1],
        data: /^data: (.+)$/m.exec(block)?.[1],
      }))
      .filter((entry) => entry.event !== undefined)
      .map((entry) => ({ event: entry.event, data: JSON.parse(entry.data ?? 'null') }));
    // The snapshot's status first, and queued/running as they are published; then the tests.
    const names = events.map((entry) => entry.event);
    const statuses = names.findIndex((name) => name !== 'status');
    expect(statuses).toBeGreaterThanOrEqual(1);
    expect(names.slice(statuses)).toEqual(['test', 'test', 'test', 'test', 'result']);
    expect(events.slice(0, statuses).map((entry) => entry.data.status)).toContain('running');
    expect(events.filter((entry) => entry.event === 'test').map((entry) => entry.data)).toEqual(
      [1, 2, 3, 4].map((index) => ({ index, of: 4, verdict: 'accepted' })),
    );
    expect(events.at(-1)?.data).toMatchObject({ id, status: 'completed', verdict: 'accepted' });
    // Hidden tests' inputs and outputs never reach the student's stream.
    expect(text).not.toContain('5 5');
    expect(text).not.toContain('-1 1');
  }, 120_000);

  it('judges a burst of 50 submissions with two workers, each exactly once', async () => {
    await startWorker();
    const ids = await Promise.all(Array.from({ length: 50 }, () => submit(A_PLUS_B)));
    await untilJudged(ids, 180_000);
    const verdicts = await Promise.all(ids.map(async (id) => (await statusOf(id)).verdict));
    expect(verdicts.every((verdict) => verdict === 'accepted')).toBe(true);
    await expect
      .poll(() => ids.every((id) => judgedEvents(id) === 1), { timeout: 5_000 })
      .toBe(true);
  }, 240_000);
});
