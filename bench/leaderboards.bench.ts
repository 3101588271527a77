import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { BoardEntry } from '../src/modules/leaderboards/leaderboards.models.ts';
import { createRedisBoardStore } from '../src/modules/leaderboards/leaderboards.redis-store.ts';
import { createSqlBoardStore } from '../src/modules/leaderboards/leaderboards.sql-store.ts';
import type { BoardStore } from '../src/modules/leaderboards/leaderboards.store.ts';
import { systemClock } from '../src/platform/clock/clock.ts';
import { openDatabase } from '../src/platform/db/database.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import { createRedisFactory } from '../src/platform/redis/redis.ts';
import { openBackend } from './lib/backends.ts';
import {
  type BenchContext,
  type Benchmark,
  type PairRun,
  pairsNote,
  rounds,
  runPairs,
} from './lib/benchmark.ts';
import { type Child, start, stop } from './lib/children.ts';
import { processCpuSeconds, systemCpu } from './lib/cpu.ts';
import { closedLoop, type LoadResult } from './lib/load.ts';
import { freePort, HOST, send, waitForOk } from './lib/net.ts';
import { openRedis, REDIS_URL } from './lib/postgres.ts';
import {
  formatCount,
  formatMs,
  formatRatio,
  resultsTable,
  runLine,
  type Section,
  yesNo,
} from './lib/report.ts';
import { freshDir, REPO_ROOT, removeDir } from './lib/servers.ts';
import { median, percentileOfSorted, ratios, spread } from './lib/stats.ts';

/**
 * Issue 7's leaderboard targets, on one board of 100,000 entries:
 *   A. Assay's Redis board store, driven in process (update, rank, top 10) against
 *      `redis-benchmark` ZINCRBY / ZREVRANK / ZREVRANGE on a 100k-member set, 50 clients,
 *      unpipelined: at least 0.5× the raw rate.
 *   B. GET /leaderboard/quizzes/{id} through the real server (PostgreSQL + Redis) against a
 *      bare Fastify route answering the same body: at least 0.8× the throughput.
 *   C. The SQL store on embedded PGlite: rank lookups p99 under 20 ms at 100k entries, 50 at a
 *      time while a writer keeps updating (a count(*) per lookup shown for context).
 */
const MEMBERS = 100_000;
const CLIENTS = 50;
const OP_MS = 2_000;
const HTTP_MS = 2_000;
const SQL_MS = 3_000;
const PAUSE_MS = 250;
const STORE_TARGET = 0.5;
const HTTP_TARGET = 0.8;
const SQL_P99_TARGET_MS = 20;
const PROTOCOL_ROUNDS = { warmups: 3, pairs: 5 };
const DEFAULT_ROUNDS = { warmups: 3, pairs: 5 };
const MAX_EXTRA_PAIRS = 3;

const run = promisify(execFile);
const logger = createLogger({ level: 'silent' });
const userId = (index: number) => `bench-user-${String(index).padStart(6, '0')}`;
const randomKey = () => Math.floor(Math.random() * 2 ** 40);
const entryOf = (index: number, key = randomKey()): BoardEntry => ({
  userId: userId(index),
  name: `Student ${index}`,
  key,
  score: key % 1000,
  details: {
    maxScore: 1000,
    percentage: (key % 1000) / 10,
    timeTakenMs: 60_000,
    completedAt: '2026-01-01T10:00:00.000Z',
  },
});
const pick = () => Math.floor(Math.random() * MEMBERS);

async function fill(store: BoardStore, board: string) {
  for (let start = 0; start < MEMBERS; start += 5_000)
    await store.write([
      {
        board,
        put: Array.from({ length: Math.min(5_000, MEMBERS - start) }, (_, i) => entryOf(start + i)),
      },
    ]);
}

/** CPU of the machine not used by the processes a round measures, in cores. */
function noiseMeter(pids: () => number[]) {
  const before = systemCpu();
  const own = pids().map((pid) => processCpuSeconds(pid));
  const startedAt = performance.now();
  return () => {
    const seconds = (performance.now() - startedAt) / 1000;
    const busy = systemCpu().busySeconds - before.busySeconds;
    const used = pids().reduce((sum, pid, index) => sum + processCpuSeconds(pid) - own[index]!, 0);
    return Math.max(0, busy - used) / seconds;
  };
}

// --- A: the Redis store against redis-benchmark ------------------------------------------

type Op = 'update' | 'rank' | 'top10';
const REFERENCE_COMMAND: Record<Op, (key: string) => string[]> = {
  update: (key) => ['ZINCRBY', key, '1', 'member:__rand_int__'],
  rank: (key) => ['ZREVRANK', key, 'member:__rand_int__'],
  top10: (key) => ['ZREVRANGE', key, '0', '9', 'WITHSCORES'],
};

async function redisBenchmark(op: Op, key: string, requests: number): Promise<number> {
  const url = new URL(REDIS_URL);
  const { stdout } = await run('redis-benchmark', [
    '-h',
    url.hostname,
    '-p',
    url.port || '6379',
    '-c',
    String(CLIENTS),
    '-n',
    String(requests),
    '-r',
    String(MEMBERS),
    '--csv',
    ...REFERENCE_COMMAND[op](key),
  ]);
  const row = stdout.trim().split('\n').at(-1) ?? '';
  const rps = Number(JSON.parse(`[${row}]`)[1]);
  if (!Number.isFinite(rps)) throw new Error(`redis-benchmark said: ${stdout}`);
  return rps;
}

/** `CLIENTS` concurrent loops in this process, each making these calls in turn for OP_MS: calls/s. */
async function loops(calls: ReadonlyArray<() => Promise<unknown>>): Promise<number> {
  let done = 0;
  const deadline = performance.now() + OP_MS;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < deadline) {
        for (const call of calls) await call();
        done += calls.length;
      }
    }),
  );
  return (done / (performance.now() - startedAt)) * 1000;
}

/** The store called as the service does. */
function driveStore(store: BoardStore, board: string, ops: readonly Op[]): Promise<number> {
  const call = (op: Op) => () =>
    op === 'update'
      ? store.write([{ board, put: [entryOf(pick())] }])
      : op === 'rank'
        ? store.rankOf(board, userId(pick()))
        : store.page(board, { offset: 0, limit: 10 });
  return loops(ops.map(call));
}

/**
 * The floor a Node client sets: the reference's own raw commands through ioredis from this
 * process (same loops, unpipelined), update + rank + top 10 in turn.
 */
function driveClient(connection: Redis, key: string): Promise<number> {
  const member = () => `member:${String(Math.floor(Math.random() * MEMBERS)).padStart(12, '0')}`;
  return loops([
    () => connection.zincrby(key, 1, member()),
    () => connection.zrevrank(key, member()),
    () => connection.zrevrange(key, 0, 9, 'WITHSCORES'),
  ]);
}

type StorePair = Record<Op | 'mixed' | 'client', { reference: number; candidate: number }> & {
  noise: number;
};

async function storeRounds(context: BenchContext) {
  const redis = await openRedis('assaybench-lb-');
  const factory = createRedisFactory({ url: REDIS_URL, prefix: redis.prefix, logger });
  // The connection the app gives its board store (deps.ts), and the store itself.
  const connection = factory.connect({ name: 'assay-leaderboards' });
  const store = createRedisBoardStore({ redis: connection, prefix: redis.prefix });
  const board = 'quiz:bench';
  const referenceKey = `${redis.prefix}:reference`;
  try {
    await fill(store, board);
    const pipeline = connection.pipeline();
    for (let index = 0; index < MEMBERS; index++)
      pipeline.zadd(referenceKey, index, `member:${String(index).padStart(12, '0')}`);
    await pipeline.exec();
    context.log(`filled ${formatCount(MEMBERS)} entries and a ${formatCount(MEMBERS)}-member set`);
    let requests = 150_000;
    const runPair = async (): Promise<StorePair> => {
      const meter = noiseMeter(() => [process.pid]);
      const pair = {} as StorePair;
      for (const op of ['update', 'rank', 'top10'] as const) {
        const reference = await redisBenchmark(op, referenceKey, requests);
        await sleep(PAUSE_MS);
        const candidate = await driveStore(store, board, [op]);
        await sleep(PAUSE_MS);
        pair[op] = { reference, candidate };
      }
      // Update + rank + top 10 as one user would: the reference is their combined rate.
      const combined =
        3 / (1 / pair.update.reference + 1 / pair.rank.reference + 1 / pair.top10.reference);
      pair.mixed = {
        reference: combined,
        candidate: await driveStore(store, board, ['update', 'rank', 'top10']),
      };
      await sleep(PAUSE_MS);
      pair.client = { reference: combined, candidate: await driveClient(connection, referenceKey) };
      // Size the next reference runs to about OP_MS each.
      requests = Math.max(20_000, Math.round((pair.rank.reference * OP_MS) / 1000));
      // Redis itself is one of the measured processes; everything else is noise.
      pair.noise = Math.max(0, meter() - 1);
      return pair;
    };
    const used = rounds(DEFAULT_ROUNDS);
    const result = await runPairs<StorePair>({
      rounds: used,
      protocol: PROTOCOL_ROUNDS,
      maxExtra: MAX_EXTRA_PAIRS,
      run: runPair,
      noise: (pair) => pair.noise,
      log: (label, pair) =>
        context.log(
          `${label}: ${(['update', 'rank', 'top10', 'mixed', 'client'] as const)
            .map(
              (op) =>
                `${op} ${formatCount(pair[op].candidate)}/${formatCount(pair[op].reference)} op/s`,
            )
            .join(', ')}`,
        ),
    });
    return { result, used };
  } finally {
    connection.disconnect();
    await redis.close();
  }
}

// --- B: board reads over HTTP against a bare Fastify route ----------------------------------

const BARE_BOARD_SOURCE = [
  "const body = JSON.parse(require('node:fs').readFileSync(process.env.BODY_FILE, 'utf8'));",
  "const app = require('fastify')({ logger: false });",
  "app.get('/health', async () => ({ status: 'ok' }));",
  "app.get('/api/v1/leaderboard/quizzes/:id', async () => body);",
  "process.on('SIGTERM', () => app.close().then(() => process.exit(0)));",
  'app.listen({ port: Number(process.env.PORT), host: process.env.HOST, backlog: 4096 })',
  '  .catch((error) => { console.error(error); process.exit(1); });',
].join('\n');

type HttpPair = { reference: LoadResult; candidate: LoadResult; noise: number };

async function httpRounds(context: BenchContext) {
  const backend = await openBackend('postgres', 'leaderboards');
  const children: Child[] = [];
  try {
    const fixtures = await backend.fixtures.setup({
      tag: `lb${Date.now()}`,
      students: 1,
      quizzes: 1,
      quiz: { title: 'Board', durationMinutes: 30, shuffleQuestions: false, shuffleOptions: false },
    });
    const quizId = fixtures.quizIds[0]!;
    const student = fixtures.students[0]!;
    // The server's own store, under its prefix: the board it will read.
    const factory = createRedisFactory({ url: REDIS_URL, prefix: backend.redis!.prefix, logger });
    const connection = factory.connect({ name: 'bench-fill' });
    const store = createRedisBoardStore({ redis: connection, prefix: backend.redis!.prefix });
    await fill(store, `quiz:${quizId}`);
    await store.write([{ board: `quiz:${quizId}`, put: [{ ...entryOf(0), userId: student.id }] }]);
    connection.disconnect();

    const assayPort = await freePort();
    const assay = await backend.startAssay(assayPort);
    children.push(assay);
    const path = `/api/v1/leaderboard/quizzes/${quizId}?limit=10`;
    const headers = { authorization: `Bearer ${student.token}` };
    const sample = await send(assayPort, { path, headers });
    if (sample.status !== 200) throw new Error(`board read: ${sample.status} ${sample.body}`);
    const parsed = JSON.parse(sample.body) as { items: unknown[]; me?: unknown; total: number };
    if (parsed.items.length !== 10 || !parsed.me || parsed.total !== MEMBERS + 1)
      throw new Error(`unexpected board: ${sample.body.slice(0, 300)}`);
    const bodyFile = join(backend.dir, 'board.json');
    writeFileSync(bodyFile, sample.body);
    const barePort = await freePort();
    const bare = start('bare fastify', process.execPath, ['-e', BARE_BOARD_SOURCE], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(barePort), HOST, BODY_FILE: bodyFile },
    });
    children.push(bare);
    await waitForOk(bare, barePort, '/health');
    context.log(`board body ${sample.body.length} bytes; bare route answers the same body`);

    const round = async (port: number, pids: number[]): Promise<[LoadResult, number]> => {
      const meter = noiseMeter(() => [process.pid, ...pids]);
      const result = await closedLoop({
        port,
        path,
        headers,
        connections: CLIENTS,
        durationMs: HTTP_MS,
      });
      // Redis and PostgreSQL serve Assay's side: count them as part of the measured work.
      return [result, Math.max(0, meter() - 0.5)];
    };
    const used = rounds(DEFAULT_ROUNDS);
    const result = await runPairs<HttpPair>({
      rounds: used,
      protocol: PROTOCOL_ROUNDS,
      maxExtra: MAX_EXTRA_PAIRS,
      run: async () => {
        const [reference, noiseA] = await round(barePort, [bare.pid, assay.pid]);
        await sleep(PAUSE_MS);
        const [candidate, noiseB] = await round(assayPort, [bare.pid, assay.pid]);
        await sleep(PAUSE_MS);
        return { reference, candidate, noise: Math.max(noiseA, noiseB) };
      },
      noise: (pair) => pair.noise,
      log: (label, pair) =>
        context.log(
          `${label}: bare ${formatCount(pair.reference.requestsPerSecond)} req/s p99 ${pair.reference.p99Ms.toFixed(2)} ms | assay ${formatCount(pair.candidate.requestsPerSecond)} req/s p99 ${pair.candidate.p99Ms.toFixed(2)} ms (${pair.candidate.failed} failed)`,
        ),
    });
    return { result, used, bodyBytes: sample.body.length };
  } finally {
    for (const child of children) await stop(child).catch(() => undefined);
    await backend.close();
  }
}

// --- C: the SQL store's rank lookups on embedded PGlite -------------------------------------

type SqlRound = { p50: number; p99: number; max: number; reads: number; writes: number };

async function sqlRounds(context: BenchContext, count: number) {
  const dir = await freshDir('leaderboards-sql');
  const database = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'db'), logger });
  try {
    await database.migrate();
    const store = createSqlBoardStore({ db: database.db, clock: systemClock });
    const board = 'quiz:bench';
    const filledAt = performance.now();
    await fill(store, board);
    context.log(
      `SQL store: ${formatCount(MEMBERS)} entries written in ${formatMs(performance.now() - filledAt)}`,
    );
    const loadedAt = performance.now();
    await store.rankOf(board, userId(1));
    context.log(
      `SQL store: first lookup (loads the board) ${formatMs(performance.now() - loadedAt)}`,
    );

    const measure = async (lookup: () => Promise<unknown>, ms: number, writer: boolean) => {
      const latencies: number[] = [];
      let writes = 0;
      const deadline = performance.now() + ms;
      const startedAt = performance.now();
      await Promise.all([
        ...Array.from({ length: CLIENTS }, async () => {
          while (performance.now() < deadline) {
            const begun = performance.now();
            await lookup();
            latencies.push(performance.now() - begun);
          }
        }),
        ...(writer
          ? [
              (async () => {
                while (performance.now() < deadline) {
                  await store.write([{ board, put: [entryOf(pick())] }]);
                  writes += 1;
                }
              })(),
            ]
          : []),
      ]);
      const seconds = (performance.now() - startedAt) / 1000;
      const sorted = Float64Array.from(latencies).sort();
      return {
        p50: percentileOfSorted(sorted, 0.5),
        p99: percentileOfSorted(sorted, 0.99),
        max: sorted.at(-1) ?? Number.NaN,
        reads: latencies.length / seconds,
        writes: writes / seconds,
      } satisfies SqlRound;
    };
    const rankRounds: SqlRound[] = [];
    for (let index = 0; index < count + 1; index++) {
      const measured = await measure(() => store.rankOf(board, userId(pick())), SQL_MS, true);
      if (index > 0) rankRounds.push(measured);
      context.log(
        `SQL store ${index === 0 ? 'warm-up' : `round ${index}`}: rank p50 ${measured.p50.toFixed(2)} ms, p99 ${measured.p99.toFixed(2)} ms, ${formatCount(measured.reads)} lookups/s with ${formatCount(measured.writes)} updates/s`,
      );
    }
    // The naive way, for context: one count(*) per lookup over the same rows.
    const naive = await measure(
      () =>
        database.db.execute(sql`select count(*) + 1 as rank from leaderboard_entries
          where board = ${board} and sort_key > (select sort_key from leaderboard_entries
            where board = ${board} and user_id = ${userId(pick())})`),
      SQL_MS,
      false,
    );
    context.log(
      `count(*) per lookup: p50 ${naive.p50.toFixed(1)} ms, p99 ${naive.p99.toFixed(1)} ms, ${formatCount(naive.reads)} lookups/s`,
    );
    return { rankRounds, naive };
  } finally {
    await database.close();
    await removeDir(dir);
  }
}

// --- the section ---------------------------------------------------------------------------

const ratioRow = <T>(
  run: PairRun<T>,
  metric: string,
  get: (pair: T) => { reference: number; candidate: number },
  format: (value: number) => string,
  target?: number,
) => {
  const pairs = run.used.map(get);
  const ratio = spread(
    ratios(
      pairs.map((pair) => pair.reference),
      pairs.map((pair) => pair.candidate),
    ),
  );
  return {
    metric,
    reference: format(median(pairs.map((pair) => pair.reference))),
    candidate: format(median(pairs.map((pair) => pair.candidate))),
    ratio: formatRatio(ratio),
    target: target === undefined ? '—' : `ratio ≥ ${target.toFixed(2)}`,
    met: target === undefined ? '—' : yesNo(ratio.median >= target),
  };
};

export const leaderboardsBenchmark: Benchmark = {
  name: 'leaderboards',
  summary:
    '100k-entry board: Redis store vs redis-benchmark, HTTP reads vs bare Fastify, SQL ranks',
  async run(context: BenchContext): Promise<Section> {
    await run('redis-benchmark', ['--version']).catch(() => {
      throw new Error('redis-benchmark is not installed (Debian: apt-get install redis-tools)');
    });
    const stores = await storeRounds(context);
    const http = await httpRounds(context);
    const sqlStore = await sqlRounds(context, stores.used.pairs);
    const p99 = median(sqlStore.rankRounds.map((round) => round.p99));
    const ops = (op: Op | 'mixed' | 'client') => (pair: StorePair) => pair[op];
    const rps = (value: number) => `${formatCount(value)} op/s`;
    const body = [
      '## leaderboards',
      '',
      runLine(context.env, context.command),
      '',
      `One board of ${formatCount(MEMBERS)} entries (random sort keys below 2^40, details as a quiz board keeps them).`,
      '',
      '### Redis store in process vs `redis-benchmark`',
      '',
      `Reference: \`redis-benchmark -c ${CLIENTS} -r ${formatCount(MEMBERS)} --csv\` (unpipelined) running ZINCRBY, ZREVRANK and`,
      `ZREVRANGE 0 9 WITHSCORES on a ${formatCount(MEMBERS)}-member sorted set. Candidate: Assay's Redis board store, the object the`,
      `leaderboards service reads and writes through, on the connection \`deps.ts\` gives it, called by ${CLIENTS} concurrent loops in`,
      `this process for ${OP_MS / 1000} s each: update = \`write\` of one entry (one script: ZADD + HSET), rank = \`rankOf\` (one script:`,
      'ZSCORE + ZCOUNT + HGET, a competition rank), top 10 = `page(0, 10)` (one script: ZREVRANGE + ZCARD + HMGET, the page',
      'returned as one JSON text) with the entries decoded. A first page is kept in Redis until a write could change it',
      '(see leaderboards.spec.md): in the top-10-only rounds nothing writes, so it is built once; in the mixed rounds a',
      'random update reaches the top 10 about once in 10,000 writes, so most reads are kept pages too, as on a real board.',
      'Unchanged pages are not parsed again. "update + rank + top 10" runs the three in turn per loop; its reference is the three raw rates combined',
      `(3 / Σ 1/rate). Rounds interleaved reference, candidate per operation. ${pairsNote(stores.result, stores.used, PROTOCOL_ROUNDS, MAX_EXTRA_PAIRS)}`,
      '',
      resultsTable([
        ratioRow(stores.result, 'update + rank + top 10 (op/s)', ops('mixed'), rps, STORE_TARGET),
        ratioRow(stores.result, 'update vs ZINCRBY (op/s)', ops('update'), rps),
        ratioRow(stores.result, 'rank vs ZREVRANK (op/s)', ops('rank'), rps),
        ratioRow(stores.result, 'top 10 vs ZREVRANGE (op/s)', ops('top10'), rps),
        ratioRow(
          stores.result,
          'floor (context): the raw commands in turn through ioredis',
          ops('client'),
          rps,
        ),
      ]),
      '',
      "The floor row is no Assay code: the reference's three commands, bare, through the ioredis client from this",
      "process in the same loops: what a Node client costs by itself. The store's cost above it is its Lua scripts (an",
      "entry and its rank in one atomic call) and each entry's JSON (name, score, details) carried and parsed.",
      '',
      '### Board reads over HTTP vs a bare Fastify route',
      '',
      `\`GET /api/v1/leaderboard/quizzes/{id}?limit=10\` as the student on the board (bearer token; the answer carries the top 10`,
      `and \`me\`, ${http.bodyBytes} bytes) from \`node bin/assay.mjs serve\` on PostgreSQL + Redis, against a bare Fastify route`,
      '(`node -e`, no plugins) answering the same body. Closed loop in the harness process, keep-alive, '
        .concat(`${CLIENTS} connections, ${HTTP_MS / 1000} s rounds, interleaved. `)
        .concat(pairsNote(http.result, http.used, PROTOCOL_ROUNDS, MAX_EXTRA_PAIRS)),
      '',
      resultsTable([
        ratioRow(
          http.result,
          'throughput (req/s)',
          (pair) => ({
            reference: pair.reference.requestsPerSecond,
            candidate: pair.candidate.requestsPerSecond,
          }),
          formatCount,
          HTTP_TARGET,
        ),
        ratioRow(
          http.result,
          'p99 latency (context)',
          (pair) => ({ reference: pair.reference.p99Ms, candidate: pair.candidate.p99Ms }),
          (ms) => formatMs(ms, 2),
        ),
      ]),
      '',
      `Failed requests in measured rounds: ${http.result.used.reduce((sum, pair) => sum + pair.candidate.failed + pair.reference.failed, 0)}.`,
      "Assay checks the token, the quiz (its settings cached for a second) and the caller, then serves the page and the caller's",
      'rank from a per-process cache that `leaderboards.changed` clears (at most a second old otherwise).',
      '',
      '### SQL store rank lookups (embedded PGlite)',
      '',
      `The SQL store on PGlite in this process, ${formatCount(MEMBERS)} entries: ${CLIENTS} concurrent \`rankOf\` loops for`,
      `${SQL_MS / 1000} s while one writer updates random entries, ${sqlStore.rankRounds.length} rounds after a warm-up. Ranks come from the`,
      "in-memory copy (binary search), revalidated against the board's version at most every 250 ms.",
      '',
      resultsTable([
        {
          metric: 'rank lookup p99',
          reference: '—',
          candidate: formatMs(p99, 2),
          ratio: '—',
          target: `< ${SQL_P99_TARGET_MS} ms`,
          met: yesNo(p99 < SQL_P99_TARGET_MS),
        },
        {
          metric: 'rank lookup p50 / max (context)',
          reference: '—',
          candidate: `${formatMs(median(sqlStore.rankRounds.map((r) => r.p50)), 3)} / ${formatMs(median(sqlStore.rankRounds.map((r) => r.max)), 1)}`,
          ratio: '—',
          target: '—',
          met: '—',
        },
        {
          metric: 'lookups/s, with updates/s (context)',
          reference: '—',
          candidate: `${formatCount(median(sqlStore.rankRounds.map((r) => r.reads)))} with ${formatCount(median(sqlStore.rankRounds.map((r) => r.writes)))}`,
          ratio: '—',
          target: '—',
          met: '—',
        },
        {
          metric: 'a count(*) per lookup instead (context)',
          reference: '—',
          candidate: `p99 ${formatMs(sqlStore.naive.p99, 1)}, ${formatCount(sqlStore.naive.reads)} lookups/s`,
          ratio: '—',
          target: '—',
          met: '—',
        },
      ]),
    ].join('\n');
    return { name: 'leaderboards', body };
  },
};
