import http from 'node:http';
import { availableParallelism } from 'node:os';
import { type Job as Message, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { detectSandboxHost } from '../src/modules/sandbox/sandbox.host.ts';
import { BASE_ENV, findLanguage } from '../src/modules/sandbox/sandbox.languages.ts';
import {
  DEFAULT_COMPILE_LIMITS,
  DEFAULT_RUN_LIMITS,
} from '../src/modules/sandbox/sandbox.limits.ts';
import { createBatcher } from '../src/platform/db/batcher.ts';
import { openDatabase } from '../src/platform/db/database.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import { messageIdFor } from '../src/platform/queue/backoff.ts';
import { createBullmqDriver, messageOptions } from '../src/platform/queue/bullmq-driver.ts';
import { createJobLedger } from '../src/platform/queue/job-ledger.ts';
import {
  createJobQueue,
  LEDGER_BATCH,
  type RunningWorker,
} from '../src/platform/queue/job-queue.ts';
import { createRedisFactory } from '../src/platform/redis/redis.ts';
import { openBackend, RAISED_RATE_LIMIT } from './lib/backends.ts';
import {
  type BenchContext,
  type Benchmark,
  type PairRun,
  pairsNote,
  rounds,
  runPairs,
} from './lib/benchmark.ts';
import { type Child, start, stop } from './lib/children.ts';
import { systemCpu } from './lib/cpu.ts';
import { freePort, HOST, waitForOk } from './lib/net.ts';
import { REDIS_URL } from './lib/postgres.ts';
import {
  type CpuAccount,
  openCpuAccount,
  openRawSandbox,
  type RawSandbox,
} from './lib/raw-sandbox.ts';
import { formatMs, markdownTable, runLine, type Section, yesNo } from './lib/report.ts';
import { REPO_ROOT } from './lib/servers.ts';
import { median, percentileOfSorted, type Spread, spread } from './lib/stats.ts';

/**
 * Issue 6's judging targets. 200 submissions of a+b (100 C, 100 Python; 10 of them wrong, 10
 * spinning until their time limit) go through Assay's real HTTP API, its queue (BullMQ on
 * Redis, the ledger in PostgreSQL) and a separate `assay worker` process; the reference judges
 * the same programs with the smallest script around raw bwrap (one sandbox per compile and per
 * test, the same flags and cgroup steps as Assay), at the parallelism of Assay's sandbox pool.
 */

const SUBMISSIONS = { c: 100, python: 100 };
const WRONG_PER_LANGUAGE = 5;
const SLOW_PER_LANGUAGE = 5;
/** a+b's CPU limit per test; a spinning program costs five of these. */
const TIME_LIMIT_MS = 200;
const TESTS: ReadonlyArray<{ input: string; hidden: boolean }> = [
  { input: '1 2\n', hidden: false },
  { input: '-5 5\n', hidden: true },
  { input: '1000000000 1000000000\n', hidden: true },
  { input: '123456 654321\n', hidden: true },
  { input: '-7 -8\n', hidden: true },
];
const sumOf = (input: string) =>
  `${input
    .trim()
    .split(/\s+/)
    .reduce((sum, value) => sum + Number(value), 0)}\n`;

const PROGRAMS = {
  c: {
    ok: '#include <stdio.h>\nint main(void) { long long a, b; if (scanf("%lld %lld", &a, &b) != 2) return 1; printf("%lld\\n", a + b); return 0; }\n',
    wrong:
      '#include <stdio.h>\nint main(void) { long long a, b; if (scanf("%lld %lld", &a, &b) != 2) return 1; printf("%lld\\n", a - b); return 0; }\n',
    slow: 'int main(void) { volatile unsigned long n = 0; for (;;) n++; }\n',
  },
  python: {
    ok: 'a, b = map(int, input().split())\nprint(a + b)\n',
    wrong: 'a, b = map(int, input().split())\nprint(a - b)\n',
    slow: 'while True:\n    pass\n',
  },
} as const;

type Language = keyof typeof PROGRAMS;
type Kind = 'ok' | 'wrong' | 'slow';
type Job = { language: Language; kind: Kind; source: string };
const EXPECTED: Record<Kind, string> = {
  ok: 'accepted',
  wrong: 'wrong_answer',
  slow: 'time_limit_exceeded',
};

/** The 200 submissions, wrong and slow ones spread through the run (the same order each round). */
function workload(): Job[] {
  const jobs: Job[] = [];
  for (const language of ['c', 'python'] as const) {
    const count = SUBMISSIONS[language];
    const every = Math.floor(count / (WRONG_PER_LANGUAGE + SLOW_PER_LANGUAGE));
    let wrong = 0;
    let slow = 0;
    for (let index = 0; index < count; index += 1) {
      let kind: Kind = 'ok';
      if (index % every === every - 1) {
        if (wrong < WRONG_PER_LANGUAGE && (slow >= SLOW_PER_LANGUAGE || wrong <= slow)) {
          kind = 'wrong';
          wrong += 1;
        } else if (slow < SLOW_PER_LANGUAGE) {
          kind = 'slow';
          slow += 1;
        }
      }
      jobs.push({ language, kind, source: PROGRAMS[language][kind] });
    }
  }
  // C and Python alternate, as two classes' submissions would arrive.
  const c = jobs.filter((job) => job.language === 'c');
  const python = jobs.filter((job) => job.language === 'python');
  return c.flatMap((job, index) => [job, python[index]!]);
}

const TARGETS = { throughput: 0.8, p95Ms: 250, queue: 0.8 };
const PROTOCOL = { warmups: 3, pairs: 5 };
const DEFAULT_PIPELINE = { warmups: 2, pairs: 5 };
const DEFAULT_QUEUE = { warmups: 3, pairs: 5 };
const MAX_EXTRA = 3;
const LATENCY_SAMPLES = 40;
const LATENCY_WARMUPS = 5;
const QUEUE_JOBS = 3_000;
const QUEUE_CONCURRENCY = 50;
const ROUND_TIMEOUT_MS = 180_000;

// ——— HTTP with keep-alive (the client a judge front-end would be) ———

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

function request(
  port: number,
  options: { method?: string; path: string; token: string; body?: unknown },
): Promise<{ status: number; body: string }> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: HOST,
        port,
        agent,
        method: options.method ?? 'GET',
        path: options.path,
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${options.path}: timed out`)));
    req.once('error', reject);
    req.end(payload);
  });
}

/** Opens the submission's event stream and resolves at its `result` event. */
function resultEvent(port: number, token: string, id: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: HOST,
        port,
        path: `/api/v1/submissions/${id}/events`,
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`events of ${id}: HTTP ${res.statusCode}`));
          res.resume();
          return;
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          const at = buffer.indexOf('event: result\n');
          const end = at < 0 ? -1 : buffer.indexOf('\n\n', at);
          if (end < 0) return;
          const data = buffer
            .slice(at, end)
            .split('\n')
            .find((line) => line.startsWith('data: '));
          req.destroy();
          resolve(data ? data.slice(6) : '');
        });
        res.on('error', () => undefined);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`events of ${id}: timed out`)));
    req.once('error', (error) => {
      if (!req.destroyed || (error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
  });
}

// ——— CPU of everything else on the machine ———

let account: CpuAccount | null = null;

type Noisy = { otherCores: number };

/**
 * Runs `work` and reads how many cores processes other than this harness (and everything it
 * started: the Assay processes, their sandboxes), PostgreSQL's backends and Redis used
 * meanwhile. PostgreSQL and Redis serve the candidate, so they are the run's own work.
 */
async function watched<T>(
  services: () => Promise<number>,
  work: () => Promise<T>,
): Promise<{ value: T; otherCores: number; elapsedMs: number }> {
  if (!account) throw new Error('no CPU account open');
  const systemBefore = systemCpu();
  const selfBefore = account.cpuSeconds();
  const servicesBefore = await services();
  const startedAt = performance.now();
  const value = await work();
  const elapsedMs = performance.now() - startedAt;
  const self = account.cpuSeconds() - selfBefore;
  const serviceCpu = (await services()) - servicesBefore;
  const busy = systemCpu().busySeconds - systemBefore.busySeconds;
  return {
    value,
    elapsedMs,
    otherCores: Math.max(0, ((busy - self - serviceCpu) * 1000) / elapsedMs),
  };
}

// ——— the reference: raw bwrap per compile and per test ———

type Verdict = 'accepted' | 'wrong_answer' | 'time_limit_exceeded' | 'compilation_error';

function rawJudge(raw: RawSandbox) {
  const c = findLanguage('c')!;
  const python = findLanguage('python')!;
  const runLimits = { ...DEFAULT_RUN_LIMITS, cpuMs: TIME_LIMIT_MS };
  const tests = async (program: Parameters<RawSandbox['run']>[0]): Promise<Verdict> => {
    let verdict: Verdict = 'accepted';
    // Every test runs, as scoring needs them all; the first failure is the verdict.
    for (const test of TESTS) {
      const times = await raw.run(program, runLimits, {
        stdin: test.input,
        killAfterMs: TIME_LIMIT_MS,
      });
      const got: Verdict = times.killed
        ? 'time_limit_exceeded'
        : times.stdout.trimEnd() === sumOf(test.input).trimEnd()
          ? 'accepted'
          : 'wrong_answer';
      if (verdict === 'accepted') verdict = got;
    }
    return verdict;
  };
  return async (job: Job): Promise<Verdict> => {
    if (job.language === 'python') {
      return tests({
        argv: python.run,
        files: { [python.sourceFile]: { content: job.source } },
        env: { ...BASE_ENV, ...python.env },
        readOnlyPaths: python.readOnlyPaths ?? [],
      });
    }
    const compiled = await raw.run(
      {
        argv: c.compile!.argv,
        files: { [c.sourceFile]: { content: job.source } },
        env: { ...BASE_ENV, ...c.env },
        readOnlyPaths: c.readOnlyPaths ?? [],
      },
      DEFAULT_COMPILE_LIMITS,
      { writable: true, collect: ['main'] },
    );
    const binary = compiled.artifacts.main;
    if (!binary) return 'compilation_error';
    return tests({
      argv: c.run,
      files: { main: { content: binary, executable: true } },
      env: { ...BASE_ENV, ...c.env },
      readOnlyPaths: c.readOnlyPaths ?? [],
    });
  };
}

/** `workers` loops taking the next job until none is left; returns the verdicts in job order. */
async function parallel<T, R>(
  items: readonly T[],
  workers: number,
  one: (item: T, index: number) => Promise<R>,
) {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < items.length) {
        const index = next;
        next += 1;
        results[index] = await one(items[index]!, index);
      }
    }),
  );
  return results;
}

// ——— the candidate: Assay's API, queue and a worker process ———

type Verdicts = { seen: Map<string, { count: number; verdict: string; at: number }> };

type PipelinePair = Noisy & {
  referencePerSecond: number;
  assayPerSecond: number;
  referenceWrong: number;
  assayWrong: number;
  lost: number;
};

/** CPU microseconds per job drained, by process. */
type DrainCpu = { bench: number; postgres: number; redis: number };

type QueuePair = Noisy & {
  rawAdd: number;
  wrapAdd: number;
  rawDrain: number;
  wrapDrain: number;
  rawBulkAdd: number;
  /** Raw BullMQ with the messages Assay's driver adds (own id, retries, failed kept). */
  shapedAdd: number;
  shapedDrain: number;
  /** The job queue with an owner-kept job type (how `submissions.judge` travels): no ledger row. */
  ownedAdd: number;
  ownedDrain: number;
  ownedDrainCpu: DrainCpu;
  /** Raw BullMQ plus the ledger's own statements, batched as Assay batches them; no wrapper. */
  ledgeredAdd: number;
  ledgeredDrain: number;
  rawDrainCpu: DrainCpu;
  wrapDrainCpu: DrainCpu;
  ledgeredDrainCpu: DrainCpu;
};

const cpuText = (cpu: DrainCpu) =>
  `${cpu.bench.toFixed(0)}/${cpu.postgres.toFixed(0)}/${cpu.redis.toFixed(0)}`;
const medianCpu = (cpus: DrainCpu[]): DrainCpu => ({
  bench: median(cpus.map((cpu) => cpu.bench)),
  postgres: median(cpus.map((cpu) => cpu.postgres)),
  redis: median(cpus.map((cpu) => cpu.redis)),
});
const perSecond = (count: number, ms: number) => (count * 1000) / ms;
const fmt = (value: Spread, digits = 2) =>
  `${value.median.toFixed(digits)} [${value.min.toFixed(digits)}–${value.max.toFixed(digits)}]`;

export const judgingBenchmark: Benchmark = {
  name: 'judging',
  summary:
    '200 C/Python a+b submissions through API, queue and worker vs raw bwrap per test; submit→verdict p95; job queue vs raw BullMQ',
  async run(context: BenchContext): Promise<Section> {
    const pipelineRounds = rounds(DEFAULT_PIPELINE);
    const queueRounds = rounds(DEFAULT_QUEUE);
    account = openCpuAccount();
    const host = await detectSandboxHost();
    const raw = openRawSandbox({
      bwrapPath: host.bwrapPath,
      shPath: host.shPath,
      workRoot: host.workRoot,
      uid: host.uid,
      gid: host.gid,
    });
    const backend = await openBackend('postgres', 'judging');
    const children: Child[] = [];
    const subscriber = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const logger = createLogger({ level: 'warn' });
    try {
      const database = backend.database!;
      const redisBench = backend.redis!;
      const services = async () => {
        let total = redisBench.cpuSeconds();
        for (const cpu of (await database.cpuByPid()).values()) total += cpu;
        return total;
      };
      const fixtures = await backend.fixtures.setup({
        tag: `judging${Date.now()}`,
        students: 20,
        quizzes: 0,
        quiz: {
          title: 'unused',
          durationMinutes: 60,
          shuffleQuestions: false,
          shuffleOptions: false,
        },
      });
      const port = await freePort();
      const env = {
        ...backend.assayEnv(port),
        RATE_LIMIT_SUBMISSIONS_PER_MINUTE: RAISED_RATE_LIMIT,
        // No LLM here: the offline heuristic feedback, as a default install gives.
        LLM_BASE_URL: '',
      };
      const api = start(
        'assay serve --no-workers',
        process.execPath,
        ['bin/assay.mjs', 'serve', '--no-workers'],
        {
          cwd: REPO_ROOT,
          env,
        },
      );
      children.push(api);
      await waitForOk(api, port, '/health');
      const worker = start(
        'assay worker --queues judge',
        process.execPath,
        ['bin/assay.mjs', 'worker', '--queues', 'judge'],
        {
          cwd: REPO_ROOT,
          env: { ...env, PORT: String(await freePort()) },
        },
      );
      children.push(worker);

      const author = fixtures.instructorToken;
      const created = await request(port, {
        method: 'POST',
        path: '/api/v1/challenges',
        token: author,
        body: {
          title: 'A + B',
          statement: 'Read two integers and print their sum.',
          languages: ['c', 'python'],
          timeLimitMs: TIME_LIMIT_MS,
          checker: 'trim',
          points: 100,
        },
      });
      if (created.status !== 201)
        throw new Error(`challenge: HTTP ${created.status} ${created.body}`);
      const challengeId = (JSON.parse(created.body) as { id: string }).id;
      const added = await request(port, {
        method: 'POST',
        path: `/api/v1/challenges/${challengeId}/testcases`,
        token: author,
        body: TESTS.map((test) => ({
          input: test.input,
          expectedOutput: sumOf(test.input),
          hidden: test.hidden,
        })),
      });
      if (added.status >= 300) throw new Error(`test cases: HTTP ${added.status} ${added.body}`);

      // Every verdict as the event bus carries it to SSE streams: counted per submission.
      const verdicts: Verdicts = { seen: new Map() };
      let wake: (() => void) | null = null;
      await subscriber.subscribe(`${redisBench.prefix}:events:submissions.changed`);
      subscriber.on('message', (_channel: string, message: string) => {
        const event = JSON.parse(message) as {
          submissionId: string;
          status: string;
          verdict?: string;
        };
        if (event.status !== 'completed' && event.status !== 'failed') return;
        const known = verdicts.seen.get(event.submissionId);
        if (known) known.count += 1;
        else
          verdicts.seen.set(event.submissionId, {
            count: 1,
            verdict: event.verdict ?? event.status,
            at: performance.now(),
          });
        wake?.();
      });
      const waitFor = async (ids: readonly string[]) => {
        const deadline = performance.now() + ROUND_TIMEOUT_MS;
        while (ids.some((id) => !verdicts.seen.has(id)) && performance.now() < deadline) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 200);
          });
        }
      };

      const jobs = workload();
      const students = fixtures.students;
      const submitted: Array<{ id: string; job: Job; token: string }> = [];
      const submitAll = async () => {
        const ids = await parallel(jobs, 16, async (job, index) => {
          const student = students[index % students.length]!;
          const response = await request(port, {
            method: 'POST',
            path: '/api/v1/submissions',
            token: student.token,
            body: { challengeId, language: job.language, source: job.source },
          });
          if (response.status !== 202)
            throw new Error(`submission: HTTP ${response.status} ${response.body}`);
          const { id } = JSON.parse(response.body) as { id: string };
          submitted.push({ id, job, token: student.token });
          return id;
        });
        return ids;
      };

      const judgeRaw = rawJudge(raw);
      const slots = availableParallelism();
      let round = 0;
      const pipeline: PairRun<PipelinePair> = await runPairs<PipelinePair>({
        rounds: pipelineRounds,
        protocol: PROTOCOL,
        maxExtra: MAX_EXTRA,
        run: async () => {
          round += 1;
          const sides = {
            reference: async () => {
              const verdictsOf = await parallel(jobs, slots, judgeRaw);
              return verdictsOf.filter((verdict, index) => verdict !== EXPECTED[jobs[index]!.kind])
                .length;
            },
            assay: async () => {
              const startedAt = performance.now();
              const ids = await submitAll();
              await waitFor(ids);
              const lost = ids.filter((id) => !verdicts.seen.has(id)).length;
              const wrong = ids.filter(
                (id, index) => verdicts.seen.get(id)?.verdict !== EXPECTED[jobs[index]!.kind],
              ).length;
              const last = Math.max(...ids.map((id) => verdicts.seen.get(id)?.at ?? 0));
              return { lost, wrong, elapsedMs: last - startedAt };
            },
          };
          // The order alternates, so neither side always runs on a machine the other warmed.
          const runReference = () => watched(services, sides.reference);
          const runAssay = () => watched(services, sides.assay);
          const first = round % 2 === 0 ? await runReference() : await runAssay();
          const second = round % 2 === 0 ? await runAssay() : await runReference();
          const [reference, assay] = round % 2 === 0 ? [first, second] : [second, first];
          const referenceResult = reference.value as number;
          const assayResult = assay.value as { lost: number; wrong: number; elapsedMs: number };
          return {
            referencePerSecond: perSecond(jobs.length, reference.elapsedMs),
            assayPerSecond: perSecond(jobs.length, assayResult.elapsedMs),
            referenceWrong: referenceResult,
            assayWrong: assayResult.wrong,
            lost: assayResult.lost,
            otherCores: Math.max(reference.otherCores, assay.otherCores),
          };
        },
        noise: (pair) => pair.otherCores,
        log: (label, pair) =>
          context.log(
            `pipeline ${label}: raw bwrap ${pair.referencePerSecond.toFixed(1)}/s, Assay ${pair.assayPerSecond.toFixed(1)}/s, unexpected verdicts ${pair.referenceWrong}/${pair.assayWrong}, lost ${pair.lost}, other ${pair.otherCores.toFixed(2)} cores`,
          ),
      });

      // Submit → verdict of one Python a+b on an otherwise idle system, as its author sees it.
      const python = PROGRAMS.python.ok;
      const latencies: number[] = [];
      const rawLatencies: number[] = [];
      for (let index = 0; index < LATENCY_WARMUPS + LATENCY_SAMPLES; index += 1) {
        const student = students[index % students.length]!;
        const startedAt = performance.now();
        const response = await request(port, {
          method: 'POST',
          path: '/api/v1/submissions',
          token: student.token,
          body: { challengeId, language: 'python', source: python },
        });
        if (response.status !== 202) throw new Error(`submission: HTTP ${response.status}`);
        const { id } = JSON.parse(response.body) as { id: string };
        const result = JSON.parse(await resultEvent(port, student.token, id)) as {
          verdict: string;
        };
        const tookMs = performance.now() - startedAt;
        if (result.verdict !== 'accepted') throw new Error(`latency run: ${result.verdict}`);
        const rawStartedAt = performance.now();
        await judgeRaw({ language: 'python', kind: 'ok', source: python });
        const rawMs = performance.now() - rawStartedAt;
        if (index >= LATENCY_WARMUPS) {
          latencies.push(tookMs);
          rawLatencies.push(rawMs);
        }
      }

      // Verdicts counted: every submission of every round, judged exactly once.
      await new Promise((settle) => setTimeout(settle, 1_000));
      const allIds = submitted.map((entry) => entry.id);
      const missing = allIds.filter((id) => !verdicts.seen.has(id)).length;
      const doubled = [...verdicts.seen.values()].filter((entry) => entry.count > 1).length;
      const stored = await Promise.all(
        submitted.slice(-jobs.length).map(async ({ id, job, token }) => {
          const response = await request(port, { path: `/api/v1/submissions/${id}`, token });
          const body = JSON.parse(response.body) as { verdict: string | null };
          return body.verdict === EXPECTED[job.kind];
        }),
      ).catch(() => [] as boolean[]);

      await stop(worker);
      await stop(api);

      const queue = await queueBenchmark({
        context,
        rounds: queueRounds,
        databaseUrl: database.url,
        prefix: `${redisBench.prefix}:queue`,
        cpu: async () => {
          let postgres = 0;
          for (const cpu of (await database.cpuByPid()).values()) postgres += cpu;
          return { postgres, redis: redisBench.cpuSeconds() };
        },
        logger,
      });

      return report({
        context,
        pipeline,
        pipelineRounds,
        queue: queue.run,
        queueRounds,
        latencies,
        rawLatencies,
        totals: {
          submissions: allIds.length + LATENCY_WARMUPS + LATENCY_SAMPLES,
          missing,
          doubled,
          storedChecked: stored.length,
          storedWrong: stored.filter((ok) => !ok).length,
        },
        slots,
      });
    } finally {
      subscriber.disconnect();
      for (const child of children)
        if (!child.hasExited()) await stop(child).catch(() => undefined);
      raw.close();
      await backend.close();
      account?.close();
      account = null;
      agent.destroy();
    }
  },
};

// ——— the queue's own overhead ———

async function queueBenchmark(options: {
  context: BenchContext;
  rounds: { warmups: number; pairs: number };
  databaseUrl: string;
  prefix: string;
  /** CPU-seconds so far of this run's PostgreSQL backends and of Redis. */
  cpu: () => Promise<{ postgres: number; redis: number }>;
  logger: ReturnType<typeof createLogger>;
}) {
  const services = async () => {
    const { postgres, redis } = await options.cpu();
    return postgres + redis;
  };
  const cpuNow = async () => {
    const usage = process.cpuUsage();
    return { bench: (usage.user + usage.system) / 1e6, ...(await options.cpu()) };
  };
  /** Runs `drain` and returns its time and CPU per job of each process. */
  const measuredDrain = async (drain: () => Promise<unknown>) => {
    const before = await cpuNow();
    const startedAt = performance.now();
    await drain();
    const ms = performance.now() - startedAt;
    const after = await cpuNow();
    const perJob = (key: keyof DrainCpu) => ((after[key] - before[key]) * 1e6) / QUEUE_JOBS;
    return {
      ms,
      cpu: { bench: perJob('bench'), postgres: perJob('postgres'), redis: perJob('redis') },
    };
  };
  const database = await openDatabase({
    kind: 'postgres',
    url: options.databaseUrl,
    poolMax: 10,
    logger: options.logger,
  });
  const redis = createRedisFactory({
    url: REDIS_URL,
    prefix: options.prefix,
    logger: options.logger,
  });
  const driver = createBullmqDriver({ redis, logger: options.logger });
  const jobs = createJobQueue<{
    'bench.noop': { index: number };
    'bench.owned': { index: number };
  }>({
    db: database.db,
    driver,
    catalogue: {
      'bench.noop': { queue: 'bench-wrapped' },
      'bench.owned': { queue: 'bench-owned', keptBy: 'owner' },
    },
    logger: options.logger,
    leaseMs: 60_000,
    sweepIntervalMs: 3_600_000,
  });
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const rawPrefix = `${options.prefix}:raw`;
  const rawQueue = new Queue('bench-raw', { connection, prefix: rawPrefix });
  const indices = Array.from({ length: QUEUE_JOBS }, (_, index) => index);

  /** Drains a raw BullMQ queue, running `work` for each message. */
  const drainRaw = async (
    name = 'bench-raw',
    work: (message: Message<{ jobId?: string }>) => Promise<void> = async () => {},
  ) => {
    let worker: Worker | undefined;
    // Timed until the last job ran, as the wrapper's drain is: closing is not draining.
    const drain = await measuredDrain(async () => {
      let done = 0;
      let finished: () => void = () => {};
      const all = new Promise<void>((resolve) => {
        finished = resolve;
      });
      worker = new Worker(
        name,
        async (message: Message<{ jobId?: string }>) => {
          await work(message);
          done += 1;
          if (done === QUEUE_JOBS) finished();
        },
        {
          connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
          prefix: rawPrefix,
          concurrency: QUEUE_CONCURRENCY,
        },
      );
      await all;
    });
    await worker?.close();
    await worker?.disconnect();
    return drain;
  };
  const rawSide = async () => {
    const options = { removeOnComplete: true, attempts: 5 };
    let startedAt = performance.now();
    await parallel(indices, QUEUE_CONCURRENCY, (index) => rawQueue.add('job', { index }, options));
    const addMs = performance.now() - startedAt;
    const drain = await drainRaw();
    startedAt = performance.now();
    for (let from = 0; from < QUEUE_JOBS; from += 1_000) {
      await rawQueue.addBulk(
        indices
          .slice(from, from + 1_000)
          .map((index) => ({ name: 'job', data: { index }, opts: options })),
      );
    }
    const bulkMs = performance.now() - startedAt;
    await drainRaw();
    startedAt = performance.now();
    await parallel(indices, QUEUE_CONCURRENCY, (index) =>
      rawQueue.add(
        'job',
        { jobId: `${round}-${index}` },
        messageOptions({ messageId: `${round}-${index}.0`, delayMs: 0 }),
      ),
    );
    const shapedAddMs = performance.now() - startedAt;
    const shapedDrain = await drainRaw();
    return {
      addMs,
      drainMs: drain.ms,
      drainCpu: drain.cpu,
      bulkMs,
      shapedAddMs,
      shapedDrainMs: shapedDrain.ms,
    };
  };
  // Raw BullMQ plus the ledger's own statements, batched as the wrapper batches them, and none
  // of the wrapper's bookkeeping: what a durable row per job costs by itself.
  const ledger = createJobLedger(database.db);
  const insert = createBatcher({ run: ledger.insertMany, ...LEDGER_BATCH });
  const claim = createBatcher({
    run: (ids: string[]) => ledger.claimMany(ids, 'bench', 60_000),
    ...LEDGER_BATCH,
  });
  const complete = createBatcher({
    run: (ids: string[]) => ledger.completeMany(ids, 'bench'),
    ...LEDGER_BATCH,
  });
  const ledgeredQueue = new Queue('bench-ledgered', { connection, prefix: rawPrefix });
  const ledgeredSide = async () => {
    const startedAt = performance.now();
    await parallel(indices, QUEUE_CONCURRENCY, async (index) => {
      const id = `ledgered-${round}-${index}`;
      const job = { id, type: 'bench.noop', queue: 'bench-ledgered', payload: { index } };
      await insert({ ...job, maxAttempts: 5, delayMs: 0 });
      await ledgeredQueue.add(
        'job',
        { jobId: id },
        messageOptions({ messageId: messageIdFor(id, 0), delayMs: 0 }),
      );
    });
    const addMs = performance.now() - startedAt;
    const drain = await drainRaw('bench-ledgered', async (message) => {
      const row = await claim(message.data.jobId ?? '');
      if (row) await complete(row.id);
    });
    return { addMs, drainMs: drain.ms, drainCpu: drain.cpu };
  };
  /** Enqueues QUEUE_JOBS jobs of `type` through the job queue, then drains them with a no-op. */
  const wrappedSide = async (type: 'bench.noop' | 'bench.owned') => {
    const queue = type === 'bench.noop' ? 'bench-wrapped' : 'bench-owned';
    const startedAt = performance.now();
    await parallel(indices, QUEUE_CONCURRENCY, (index) => jobs.enqueue(type, { index }));
    const addMs = performance.now() - startedAt;
    let done = 0;
    let finished: () => void = () => {};
    const all = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const noop = async () => {
      done += 1;
      if (done === QUEUE_JOBS) finished();
    };
    let worker: RunningWorker | undefined;
    const drain = await measuredDrain(async () => {
      worker = await jobs.startWorker({
        handlers: {
          'bench.noop': noop,
          // Nothing strands: the bench's sweeper never runs (its interval is an hour).
          'bench.owned': Object.assign(() => noop(), { stranded: async () => [] }),
        },
        queues: [queue],
        concurrency: QUEUE_CONCURRENCY,
      });
      await all;
    });
    await worker?.close(10_000);
    return { addMs, drainMs: drain.ms, drainCpu: drain.cpu };
  };
  let round = 0;
  try {
    const run = await runPairs<QueuePair>({
      rounds: options.rounds,
      protocol: PROTOCOL,
      maxExtra: MAX_EXTRA,
      run: async () => {
        round += 1;
        // Each side goes first to fourth in turn.
        type Watched<T> = { value: T; otherCores: number };
        let rawRun: Watched<Awaited<ReturnType<typeof rawSide>>> | undefined;
        let wrapRun: Watched<Awaited<ReturnType<typeof wrappedSide>>> | undefined;
        let ledgeredRun: Watched<Awaited<ReturnType<typeof ledgeredSide>>> | undefined;
        let ownedRun: Watched<Awaited<ReturnType<typeof wrappedSide>>> | undefined;
        const sides = [
          async () => {
            rawRun = await watched(services, rawSide);
          },
          async () => {
            wrapRun = await watched(services, () => wrappedSide('bench.noop'));
          },
          async () => {
            ownedRun = await watched(services, () => wrappedSide('bench.owned'));
          },
          async () => {
            ledgeredRun = await watched(services, ledgeredSide);
          },
        ];
        for (let turn = 0; turn < sides.length; turn += 1) {
          await sides[(turn + round) % sides.length]?.();
        }
        if (!rawRun || !wrapRun || !ledgeredRun || !ownedRun)
          throw new Error('a side of the pair did not run');
        const rawTimes = rawRun.value;
        const wrapTimes = wrapRun.value;
        return {
          ownedAdd: perSecond(QUEUE_JOBS, ownedRun.value.addMs),
          ownedDrain: perSecond(QUEUE_JOBS, ownedRun.value.drainMs),
          ownedDrainCpu: ownedRun.value.drainCpu,
          ledgeredAdd: perSecond(QUEUE_JOBS, ledgeredRun.value.addMs),
          ledgeredDrain: perSecond(QUEUE_JOBS, ledgeredRun.value.drainMs),
          ledgeredDrainCpu: ledgeredRun.value.drainCpu,
          rawAdd: perSecond(QUEUE_JOBS, rawTimes.addMs),
          rawDrain: perSecond(QUEUE_JOBS, rawTimes.drainMs),
          rawBulkAdd: perSecond(QUEUE_JOBS, rawTimes.bulkMs),
          shapedAdd: perSecond(QUEUE_JOBS, rawTimes.shapedAddMs),
          shapedDrain: perSecond(QUEUE_JOBS, rawTimes.shapedDrainMs),
          wrapAdd: perSecond(QUEUE_JOBS, wrapTimes.addMs),
          wrapDrain: perSecond(QUEUE_JOBS, wrapTimes.drainMs),
          rawDrainCpu: rawTimes.drainCpu,
          wrapDrainCpu: wrapTimes.drainCpu,
          // PostgreSQL and Redis are the queue's own work here too.
          otherCores: Math.max(
            rawRun.otherCores,
            wrapRun.otherCores,
            ledgeredRun.otherCores,
            ownedRun.otherCores,
          ),
        };
      },
      noise: (pair) => pair.otherCores,
      log: (label, pair) =>
        options.context.log(
          `queue ${label}: add raw ${pair.rawAdd.toFixed(0)}/s (bulk ${pair.rawBulkAdd.toFixed(0)}/s, Assay's messages ${pair.shapedAdd.toFixed(0)}/s) vs wrapper ${pair.wrapAdd.toFixed(0)}/s (owner-kept ${pair.ownedAdd.toFixed(0)}/s); drain raw ${pair.rawDrain.toFixed(0)}/s (Assay's messages ${pair.shapedDrain.toFixed(0)}/s) vs wrapper ${pair.wrapDrain.toFixed(0)}/s (owner-kept ${pair.ownedDrain.toFixed(0)}/s); ledgered raw add ${pair.ledgeredAdd.toFixed(0)}/s drain ${pair.ledgeredDrain.toFixed(0)}/s; CPU µs a job drained raw ${cpuText(pair.rawDrainCpu)}, ledgered ${cpuText(pair.ledgeredDrainCpu)}, wrapper ${cpuText(pair.wrapDrainCpu)}, owner-kept ${cpuText(pair.ownedDrainCpu)}; other ${pair.otherCores.toFixed(2)} cores`,
        ),
    });
    return { run };
  } finally {
    for (const queue of [rawQueue, ledgeredQueue]) {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
    connection.disconnect();
    await driver.close();
    await database.close();
  }
}

// ——— the section ———

function report(input: {
  context: BenchContext;
  pipeline: PairRun<PipelinePair>;
  pipelineRounds: { warmups: number; pairs: number };
  queue: PairRun<QueuePair>;
  queueRounds: { warmups: number; pairs: number };
  latencies: number[];
  rawLatencies: number[];
  totals: {
    submissions: number;
    missing: number;
    doubled: number;
    storedChecked: number;
    storedWrong: number;
  };
  slots: number;
}): Section {
  const { pipeline, queue, totals } = input;
  const throughput = spread(
    pipeline.used.map((pair) => pair.assayPerSecond / pair.referencePerSecond),
  );
  const sorted = [...input.latencies].sort((a, b) => a - b);
  const p50 = percentileOfSorted(sorted, 0.5);
  const p95 = percentileOfSorted(sorted, 0.95);
  type Rate =
    | 'rawAdd'
    | 'ownedAdd'
    | 'ownedDrain'
    | 'wrapAdd'
    | 'rawDrain'
    | 'wrapDrain'
    | 'rawBulkAdd'
    | 'shapedAdd'
    | 'shapedDrain'
    | 'ledgeredAdd'
    | 'ledgeredDrain';
  /** A row of the queue's rates: the candidate's over the reference's, with a target or not. */
  const queueRow = (label: string, reference: Rate, candidate: Rate, target?: number) => {
    const ratio = spread(queue.used.map((pair) => pair[candidate] / pair[reference]));
    const rate = (key: Rate) => `${median(queue.used.map((pair) => pair[key])).toFixed(0)} jobs/s`;
    return [
      label,
      rate(reference),
      rate(candidate),
      fmt(ratio),
      target === undefined ? '—' : `≥ ${target}`,
      target === undefined ? '—' : yesNo(ratio.median >= target),
    ];
  };
  const rawCpu = medianCpu(queue.used.map((pair) => pair.rawDrainCpu));
  const wrapCpu = medianCpu(queue.used.map((pair) => pair.wrapDrainCpu));
  const ledgeredCpu = medianCpu(queue.used.map((pair) => pair.ledgeredDrainCpu));
  const ownedCpu = medianCpu(queue.used.map((pair) => pair.ownedDrainCpu));
  const unexpected = pipeline.all.reduce((sum, pair) => sum + pair.assayWrong, 0);
  const referenceUnexpected = pipeline.all.reduce((sum, pair) => sum + pair.referenceWrong, 0);
  const lossless =
    totals.missing === 0 && totals.doubled === 0 && unexpected === 0 && totals.storedWrong === 0;
  const rows = [
    [
      '1. throughput: Assay (API → queue → worker → sandbox) / raw bwrap per test',
      `${median(pipeline.used.map((pair) => pair.referencePerSecond)).toFixed(1)} subs/s`,
      `${median(pipeline.used.map((pair) => pair.assayPerSecond)).toFixed(1)} subs/s`,
      fmt(throughput),
      `≥ ${TARGETS.throughput} (1.0 once per-submission sandboxes pay off)`,
      yesNo(throughput.median >= TARGETS.throughput),
    ],
    [
      '2. submit → verdict, one Python a+b on an idle system (SSE `result`), p95',
      `${formatMs(median(input.rawLatencies), 1)} (5 raw runs, median)`,
      `p50 ${formatMs(p50, 1)}, p95 ${formatMs(p95, 1)}`,
      '—',
      `p95 ≤ ${TARGETS.p95Ms} ms`,
      yesNo(p95 <= TARGETS.p95Ms),
    ],
    [
      '3. verdicts lost or doubled (counted)',
      '—',
      `${totals.submissions} submitted, ${totals.missing} without a verdict, ${totals.doubled} judged twice, ${unexpected} unexpected verdicts`,
      '—',
      '0',
      yesNo(lossless),
    ],
    queueRow(
      `4a. job queue enqueue of an owner-kept job (how \`submissions.judge\` travels: a BullMQ push; the submission row is its record) / raw BullMQ \`add\`, ${QUEUE_CONCURRENCY} in flight`,
      'rawAdd',
      'ownedAdd',
      TARGETS.queue,
    ),
    queueRow(
      `4b. job queue drain of owner-kept no-op jobs / raw BullMQ no-op worker, concurrency ${QUEUE_CONCURRENCY}`,
      'rawDrain',
      'ownedDrain',
      TARGETS.queue,
    ),
    queueRow(
      'context: job queue enqueue of a ledger-kept job (the other job types: a ledger row + BullMQ push) / raw BullMQ `add`',
      'rawAdd',
      'wrapAdd',
    ),
    queueRow(
      'context: job queue drain of ledger-kept jobs (claim lease, no-op, complete in a transaction) / raw BullMQ no-op worker',
      'rawDrain',
      'wrapDrain',
    ),
    queueRow(
      'context: job queue enqueue of a ledger-kept job / raw BullMQ `addBulk` (1,000 a call)',
      'rawBulkAdd',
      'wrapAdd',
    ),
    queueRow(
      "context: job queue enqueue of a ledger-kept job / raw BullMQ `add` of the messages Assay's driver adds for ledger ids (own id, 5 attempts with backoff, failed kept a day)",
      'shapedAdd',
      'wrapAdd',
    ),
    queueRow(
      'context: job queue drain of ledger-kept jobs / raw BullMQ no-op worker on those messages',
      'shapedDrain',
      'wrapDrain',
    ),
    queueRow(
      "context, the ceiling of any job that keeps a ledger row: raw BullMQ `add` of those messages after the ledger's INSERT (batched as Assay batches it), no wrapper / raw BullMQ `add`",
      'rawAdd',
      'ledgeredAdd',
    ),
    queueRow(
      "context, the same ceiling for the drain: raw BullMQ worker that runs the ledger's claim and completion (batched as Assay batches them), no wrapper / raw BullMQ no-op worker",
      'rawDrain',
      'ledgeredDrain',
    ),
    queueRow(
      "context, the wrapper's own overhead: ledger-kept enqueue / that raw BullMQ `add` after the ledger's INSERT",
      'ledgeredAdd',
      'wrapAdd',
    ),
    queueRow(
      "context, the wrapper's own overhead: ledger-kept drain / that raw BullMQ worker running the ledger's claim and completion",
      'ledgeredDrain',
      'wrapDrain',
    ),
  ];
  const body = [
    runLine(input.context.env, input.context.command),
    '',
    `Workload: ${SUBMISSIONS.c} C and ${SUBMISSIONS.python} Python a+b submissions a round (5 tests each: 1 public, 4 hidden; ${WRONG_PER_LANGUAGE * 2} print a − b, ${SLOW_PER_LANGUAGE * 2} spin until the ${TIME_LIMIT_MS} ms CPU limit of every test), posted by 20 students 16 at a time to \`POST /api/v1/submissions\` of \`assay serve --no-workers\` on PostgreSQL + Redis, judged by one \`assay worker --queues judge\` process (its sandbox pool: ${input.slots} slots, one per core). A round ends at the last verdict published on the event bus (what SSE streams relay). Reference: the same 200 programs judged by a minimal script around raw bwrap with Assay's flags and cgroup steps, one sandbox per C compile and per test (killed at the time limit), ${input.slots} at a time. Sides alternate first and second each pair.`,
    '',
    markdownTable(['target', 'reference', 'Assay', 'ratio [min–max]', 'target', 'met?'], rows),
    '',
    `Pipeline: ${pairsNote(pipeline, input.pipelineRounds, PROTOCOL, MAX_EXTRA)} The reference's own unexpected verdicts over all pairs: ${referenceUnexpected}. The last round's 200 submissions were read back with \`GET /api/v1/submissions/{id}\`: ${totals.storedChecked - totals.storedWrong} of ${totals.storedChecked} hold the expected verdict.`,
    '',
    `Latency: ${LATENCY_WARMUPS} warm-ups, then ${LATENCY_SAMPLES} submissions one at a time, each timed from \`POST\` until its event stream's \`result\`; the raw figure is the same program's five tests in five raw sandboxes, in the same loop.`,
    '',
    `Queue: ${QUEUE_JOBS.toLocaleString('en-US')} no-op jobs a side. ${pairsNote(queue, input.queueRounds, PROTOCOL, MAX_EXTRA)} An owner-kept job (\`keptBy: 'owner'\`, how every submission is judged) writes nothing to PostgreSQL in the queue: its owner's row (the submission, with its status, lease and tries) is its record, claimed and swept by the owner, so the queue costs a BullMQ push and a delivery. The other job types are ledger-kept: a ledger row per job in PostgreSQL before the id goes to BullMQ, which a worker claims with a lease and completes (enqueues, claims and completions made at the same time share one statement each: \`batcher.ts\`); that is what lets a FLUSHALL or a killed worker lose nothing for jobs with no row of their own, and it is where their time goes. The ceiling rows run raw BullMQ with only the ledger's statements added (the same prepared statements and batching, none of the wrapper's code): a job that keeps a ledger row cannot beat them on this machine; the overhead rows are what the wrapper costs above them. Each side goes first to fourth in turn. CPU per job drained, median of the pairs (this benchmark's process, which runs every side / PostgreSQL / Redis): raw BullMQ ${cpuText(rawCpu)} µs, owner-kept ${cpuText(ownedCpu)} µs, raw BullMQ running the ledger's statements ${cpuText(ledgeredCpu)} µs, ledger-kept ${cpuText(wrapCpu)} µs; with ${availableParallelism()} cores here, a drain is bound by their sum.`,
  ].join('\n');
  return { name: 'judging', body };
}
