import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { type Database, type DatabaseHandle, openDatabase } from '../src/platform/db/database.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import { type Backend, type BackendKind, describeBackend, openBackend } from './lib/backends.ts';
import {
  type BenchContext,
  type Benchmark,
  type PairRun,
  pairsNote,
  rounds,
  runPairs,
} from './lib/benchmark.ts';
import { type Child, start, stop, waitForExit } from './lib/children.ts';
import { processCpuSeconds, systemCpu } from './lib/cpu.ts';
import { freePort, send, waitForOk } from './lib/net.ts';
import {
  formatCount,
  formatMs,
  formatRatio,
  resultsTable,
  runLine,
  type Section,
  yesNo,
} from './lib/report.ts';
import { REPO_ROOT } from './lib/servers.ts';
import { median, ratios, spread } from './lib/stats.ts';

/**
 * Issue 8's scale targets, on one quiz of 30 single-choice questions with 10,000 finished
 * attempts (300,000 stored outcomes and 300,000 saved answers), on PostgreSQL and on PGlite:
 *   A. GET /api/v1/analytics/quizzes/{id} through the real server against one hand-written
 *      aggregate SELECT of per-question means over the same rows, in the same run: at most 3×.
 *   B. The API process's memory growth while it builds the report: under 50 MB (its peak RSS,
 *      reset through /proc/<pid>/clear_refs before each report, minus its RSS before).
 */
const ATTEMPTS = 10_000;
const QUESTIONS = 30;
const OPTIONS = 4;
const RATIO_TARGET = 3;
const MEMORY_TARGET_MB = 50;
const PROTOCOL_ROUNDS = { warmups: 3, pairs: 5 };
const DEFAULT_ROUNDS = { warmups: 3, pairs: 5 };
const MAX_EXTRA_PAIRS = 3;
const ADMIN = { email: 'bench-admin@example.com', password: 'violet-harbour-7-lanterns-bench' };
const QUIZ_ID = 'bench-analytics-quiz';
const TOKEN_REFRESH_MS = 10 * 60_000;

const run = promisify(execFile);
const logger = createLogger({ level: 'silent' });

/** The reference: Moodle's facility index, in its plainest form, as one aggregate SELECT. */
const REFERENCE_SQL = `select o->>'questionId' as question_id, avg((o->>'earned')::float8) as mean
  from attempts a cross join lateral jsonb_array_elements(a.outcomes) o
  where a.quiz_id = $1 and a.status in ('graded', 'expired')
  group by 1`;

/** A small deterministic generator (mulberry32): every run seeds the same attempts. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 30 questions, 10,000 students of spread-out ability, answers that follow their marks. */
async function seed(db: Database) {
  const next = random(8);
  const at = new Date('2026-01-01T09:00:00Z');
  const questions = Array.from({ length: QUESTIONS }, (_, index) => ({
    id: randomUUID(),
    difficulty: (index / QUESTIONS) * 3 - 1.5,
    options: Array.from({ length: OPTIONS }, (_, option) => ({
      id: `q${index}o${option}`,
      text: `Option ${option + 1}`,
      ...(option === 0 ? { correct: true } : {}),
    })),
  }));
  await db.execute(sql`
    insert into questions (id, type, prompt, points, tags, body, created_by, created_at, updated_at)
    select id, 'single_choice', 'Question ' || id, 1, '{bench}', body, 'bench', ${at.toISOString()}::timestamptz,
      ${at.toISOString()}::timestamptz
    from jsonb_to_recordset(${JSON.stringify(
      questions.map((q) => ({ id: q.id, body: { type: 'single_choice', options: q.options } })),
    )}::jsonb) as t(id text, body jsonb)`);
  await db.execute(sql`
    insert into quizzes (id, title, status, max_attempts, questions, created_by, created_at, updated_at,
      published_at, first_attempt_at)
    values (${QUIZ_ID}, 'Analytics benchmark', 'published', 1,
      ${JSON.stringify(questions.map((q) => ({ questionId: q.id })))}::jsonb, 'bench',
      ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz,
      ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz)`);
  const BATCH = 500;
  for (let from = 0; from < ATTEMPTS; from += BATCH) {
    const attempts: unknown[] = [];
    const answers: unknown[] = [];
    for (let index = from; index < Math.min(ATTEMPTS, from + BATCH); index++) {
      const id = randomUUID();
      const ability = (next() + next() + next() - 1.5) * 2;
      const outcomes = questions.map((question) => {
        const correct = next() < 1 / (1 + Math.exp(question.difficulty - ability));
        const picked = correct ? 0 : 1 + Math.floor(next() * (OPTIONS - 1));
        answers.push({ a: id, q: question.id, v: question.options[picked]?.id });
        return {
          questionId: question.id,
          status: 'scored',
          earned: correct ? 1 : 0,
          max: 1,
          correct,
          // As submit records it (attempts.models answerRecord): pick rates come from here.
          answered: true,
          picked: [question.options[picked]?.id],
        };
      });
      const score = outcomes.reduce((sum, outcome) => sum + outcome.earned, 0);
      const started = new Date(at.getTime() + index * 1_000);
      attempts.push({
        id,
        u: `bench-student-${index}`,
        s: score,
        o: outcomes,
        slots: questions.map((q) => ({
          questionId: q.id,
          points: 1,
          optionIds: q.options.map((o) => o.id),
        })),
        started: started.toISOString(),
        submitted: new Date(
          started.getTime() + 600_000 + Math.floor(next() * 600_000),
        ).toISOString(),
      });
    }
    await db.execute(sql`
      insert into attempts (id, quiz_id, user_id, number, status, slots, started_at, submitted_at,
        ended_by, score, max_score, outcomes, earned)
      select id, ${QUIZ_ID}, u, 1, 'graded', slots, started, submitted, 'student', s, ${QUESTIONS}, o, s
      from jsonb_to_recordset(${JSON.stringify(attempts)}::jsonb)
        as t(id text, u text, s numeric, o jsonb, slots jsonb, started timestamptz, submitted timestamptz)`);
    await db.execute(sql`
      insert into attempt_answers (attempt_id, question_id, answer, saved_at)
      select a, q, to_jsonb(v), ${at.toISOString()}::timestamptz
      from jsonb_to_recordset(${JSON.stringify(answers)}::jsonb) as t(a text, q text, v text)`);
  }
  await db.execute(sql`analyze`);
}

/** Resident and peak memory of a process, in bytes, from /proc/<pid>/status. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
}

/** Resets the peak (VmHWM) to the current RSS: `5` in clear_refs, Linux 4.0 and newer. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return memoryOf(pid).peak <= memoryOf(pid).rss + 4096 * 16;
  } catch {
    return false;
  }
}

/** The busy CPU of the machine that none of `pids` used, in cores. */
function noiseMeter(pids: () => Promise<number[]>) {
  let before = systemCpu();
  let own: Map<number, number> = new Map();
  let startedAt = performance.now();
  const read = async () =>
    new Map(
      (await pids()).flatMap((pid) => {
        try {
          return [[pid, processCpuSeconds(pid)] as const];
        } catch {
          return [];
        }
      }),
    );
  return {
    async begin() {
      own = await read();
      before = systemCpu();
      startedAt = performance.now();
    },
    async end() {
      const busy = systemCpu().busySeconds - before.busySeconds;
      const after = await read();
      let used = 0;
      for (const [pid, seconds] of after) used += seconds - (own.get(pid) ?? 0);
      return Math.max(0, busy - used) / ((performance.now() - startedAt) / 1000);
    },
  };
}

type Pair = {
  referenceMs: number;
  reportMs: number;
  growthBytes: number;
  peakExact: boolean;
  noise: number;
};

type Outcome = {
  kind: BackendKind;
  result: PairRun<Pair>;
  used: { warmups: number; pairs: number };
  firstGrowthBytes: number;
  seedMs: number;
  reportBytes: number;
};

/** The reference query's runner: a pg client, or PGlite on a copy of the server's database. */
async function openReference(backend: Backend, dataDir: string) {
  if (backend.kind === 'postgres') {
    const client = new pg.Client({
      connectionString: backend.database?.url,
      application_name: 'bench-reference',
    });
    await client.connect();
    // The report runs with JIT off (compiling costs more than it saves there): so does this.
    await client.query('set jit = off');
    return {
      pid: async () => {
        const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
        return rows[0]?.pid;
      },
      query: async () =>
        (await client.query(REFERENCE_SQL, [QUIZ_ID])).rows as Array<Record<string, unknown>>,
      close: () => client.end(),
    };
  }
  const copy = join(backend.dir, 'reference-db');
  await run('cp', ['-a', join(dataDir, 'db'), copy]);
  const handle: DatabaseHandle = await openDatabase({ kind: 'pglite', dataDir: copy, logger });
  return {
    pid: async () => undefined,
    query: async () =>
      (
        (await handle.db.execute(
          sql.raw(REFERENCE_SQL.replace('$1', `'${QUIZ_ID}'`)),
        )) as unknown as {
          rows: Array<Record<string, unknown>>;
        }
      ).rows,
    close: () => handle.close(),
  };
}

async function measureBackend(kind: BackendKind, context: BenchContext): Promise<Outcome> {
  const backend = await openBackend(kind, 'analytics');
  let server: Child | undefined;
  let reference: Awaited<ReturnType<typeof openReference>> | undefined;
  try {
    const port = await freePort();
    const dataDir = join(backend.dir, 'data');
    const env = {
      ...backend.assayEnv(port),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
    };
    const migrate = start('assay migrate', process.execPath, ['bin/assay.mjs', 'migrate'], {
      cwd: REPO_ROOT,
      env,
    });
    const migrated = await waitForExit(migrate, 5 * 60_000);
    if (migrated.code !== 0) throw new Error(`assay migrate failed:\n${migrate.output()}`);

    const seedStarted = performance.now();
    const handle =
      kind === 'postgres'
        ? await openDatabase({ kind, url: backend.database?.url ?? '', poolMax: 2, logger })
        : await openDatabase({ kind, dataDir: join(dataDir, 'db'), logger });
    try {
      await seed(handle.db);
    } finally {
      await handle.close();
    }
    const seedMs = performance.now() - seedStarted;
    context.log(
      `${kind}: seeded ${formatCount(ATTEMPTS)} attempts × ${QUESTIONS} questions in ${formatMs(seedMs)}`,
    );

    reference = await openReference(backend, dataDir);
    server = start('assay serve', process.execPath, ['bin/assay.mjs', 'serve'], {
      cwd: REPO_ROOT,
      env,
    });
    await waitForOk(server, port, '/health', { timeoutMs: 120_000 });
    const api = server;

    let token = '';
    let tokenAt = 0;
    const signIn = async () => {
      if (token && performance.now() - tokenAt < TOKEN_REFRESH_MS) return token;
      const response = await send(port, {
        method: 'POST',
        path: '/api/v1/auth/login',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ADMIN),
      });
      if (response.status !== 200) throw new Error(`login: ${response.status} ${response.body}`);
      token = (JSON.parse(response.body) as { accessToken: string }).accessToken;
      tokenAt = performance.now();
      return token;
    };
    let reportBytes = 0;
    const report = async () => {
      const response = await send(port, {
        path: `/api/v1/analytics/quizzes/${QUIZ_ID}`,
        headers: { authorization: `Bearer ${await signIn()}` },
        timeoutMs: 120_000,
      });
      if (response.status !== 200) throw new Error(`report: ${response.status} ${response.body}`);
      reportBytes = Buffer.byteLength(response.body);
      return JSON.parse(response.body) as {
        attempts: { counted: number };
        questions: Array<{ questionId: string; facilityIndex: number | null }>;
      };
    };

    // The two answers agree: the report's facility index is the reference's mean × 100.
    const means = new Map(
      (await reference.query()).map((row) => [String(row.question_id), Number(row.mean)]),
    );
    // Signing in verifies a password with argon2 (46 MiB): done before, so only the report counts.
    await signIn();
    const first = memoryOf(api.pid);
    const exactPeak = resetPeak(api.pid);
    const checked = await report();
    const firstGrowthBytes = Math.max(0, memoryOf(api.pid).peak - first.rss);
    if (checked.attempts.counted !== ATTEMPTS || checked.questions.length !== QUESTIONS)
      throw new Error(
        `the report counted ${checked.attempts.counted} attempts, ${checked.questions.length} questions`,
      );
    for (const question of checked.questions) {
      const expected = 100 * (means.get(question.questionId) ?? Number.NaN);
      if (Math.abs((question.facilityIndex ?? Number.NaN) - expected) > 1e-9)
        throw new Error(
          `facility of ${question.questionId}: ${question.facilityIndex} vs ${expected}`,
        );
    }
    context.log(
      `${kind}: report checked against the reference; first report grew the API process by ${(firstGrowthBytes / 2 ** 20).toFixed(1)} MB${exactPeak ? '' : ' (peak not resettable: sampled)'}`,
    );

    const ref = reference;
    const meter = noiseMeter(async () => {
      const backends =
        kind === 'postgres' ? [...((await backend.database?.cpuByPid()) ?? new Map()).keys()] : [];
      return [process.pid, api.pid, ...backends];
    });
    const used = rounds(DEFAULT_ROUNDS);
    const result = await runPairs<Pair>({
      rounds: used,
      protocol: PROTOCOL_ROUNDS,
      maxExtra: MAX_EXTRA_PAIRS,
      run: async () => {
        await signIn();
        await meter.begin();
        let startedAt = performance.now();
        await ref.query();
        const referenceMs = performance.now() - startedAt;
        const before = memoryOf(api.pid);
        const peakExact = resetPeak(api.pid);
        let sampledPeak = before.rss;
        const sampler = peakExact
          ? undefined
          : setInterval(() => {
              sampledPeak = Math.max(sampledPeak, memoryOf(api.pid).rss);
            }, 5);
        startedAt = performance.now();
        await report();
        const reportMs = performance.now() - startedAt;
        if (sampler) clearInterval(sampler);
        const peak = peakExact ? memoryOf(api.pid).peak : sampledPeak;
        return {
          referenceMs,
          reportMs,
          growthBytes: Math.max(0, peak - before.rss),
          peakExact,
          noise: await meter.end(),
        };
      },
      noise: (pair) => pair.noise,
      log: (label, pair) =>
        context.log(
          `${kind} ${label}: reference ${formatMs(pair.referenceMs)}, report ${formatMs(pair.reportMs)} (${(pair.reportMs / pair.referenceMs).toFixed(2)}×), +${(pair.growthBytes / 2 ** 20).toFixed(1)} MB, other processes ${pair.noise.toFixed(2)} cores`,
        ),
    });
    return { kind, result, used, firstGrowthBytes, seedMs, reportBytes };
  } finally {
    if (server) await stop(server).catch(() => undefined);
    await reference?.close().catch(() => undefined);
    await backend.close();
  }
}

/** How to read the figures (from EXPLAIN ANALYZE of the report's statement while building it). */
const READING = [
  "- Where the report's time goes: one pass over the outcomes (one `unnest` of the five outcome arrays the database derives from the JSON, against the reference's `jsonb_array_elements` and two fields) that only counts the joint (question, mark, max, rest, answered, picked) distribution is most of it; the rest of an attempt is its recorded total minus the mark, so no attempt's outcomes are read twice; every statistic read off the few thousand distribution rows takes milliseconds. The saved answers are read only for attempts submitted before outcomes recorded what was picked (none here).",
  "- Memory: the admin signs in before the first report is measured (argon2 verifies a password in 46 MiB, which is not the report's). The first report after start grows the process once (code compiled, heap space the runtime keeps; on PGlite also the database's buffers, as it runs in the process); later reports reuse it.",
  "- On PostgreSQL the noise meter counts parallel query workers (reaped by the postmaster) as the database's, not as other processes.",
];

const MB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

function section(outcomes: readonly Outcome[], context: BenchContext): Section {
  const rows = outcomes.flatMap((outcome) => {
    const pairs = outcome.result.used;
    const ratio = spread(
      ratios(
        pairs.map((p) => p.referenceMs),
        pairs.map((p) => p.reportMs),
      ),
    );
    const growth = pairs.map((p) => p.growthBytes);
    const worst = Math.max(outcome.firstGrowthBytes, ...growth);
    const name = outcome.kind === 'postgres' ? 'PostgreSQL' : 'PGlite';
    return [
      {
        metric: `${name}: GET /analytics/quizzes/{id} vs the per-question means SELECT`,
        reference: formatMs(median(pairs.map((p) => p.referenceMs))),
        candidate: formatMs(median(pairs.map((p) => p.reportMs))),
        ratio: formatRatio(ratio),
        target: `≤ ${RATIO_TARGET}×`,
        met: yesNo(ratio.median <= RATIO_TARGET),
      },
      {
        metric: `${name}: API process memory growth during a report (first; then median of pairs)`,
        reference: '–',
        candidate: `${MB(outcome.firstGrowthBytes)}; ${MB(median(growth))} (max ${MB(Math.max(...growth))})`,
        ratio: '–',
        target: `< ${MEMORY_TARGET_MB} MB`,
        met: yesNo(worst < MEMORY_TARGET_MB * 2 ** 20),
      },
    ];
  });
  const notes = outcomes.map((outcome) => {
    const sampled = outcome.result.used.some((p) => !p.peakExact);
    return `- On ${describeBackend(outcome.kind)}: seeded in ${formatMs(outcome.seedMs)}; report ${formatCount(outcome.reportBytes)} bytes of JSON; ${pairsNote(outcome.result, outcome.used, PROTOCOL_ROUNDS, MAX_EXTRA_PAIRS)}${sampled ? ' Peak memory was sampled every 5 ms (clear_refs not writable), so short peaks may be missed.' : ''}`;
  });
  return {
    name: 'analytics',
    body: [
      '## Analytics: the quiz report at 10,000 attempts (issue 8)',
      '',
      runLine(context.env, context.command),
      '',
      `One published quiz of ${QUESTIONS} single-choice questions with ${formatCount(ATTEMPTS)} graded attempts (${formatCount(ATTEMPTS * QUESTIONS)} stored outcomes, as many saved answers), seeded straight into the database. Candidate: \`GET /api/v1/analytics/quizzes/{id}\` (first attempts: every statistic, the histogram, pick rates) through \`assay serve\` as an admin, one request at a time on a fresh connection. Reference, in the same run and interleaved: one hand-written \`SELECT\` of per-question means over the same rows (\`jsonb_array_elements\` of the outcomes, \`avg\` per question id), from a pg client on the same PostgreSQL database (JIT off, as for the report) or from PGlite in the harness on a copy of the server's database. The first report is checked against it: every facility index is 100 × the reference mean. Memory: the API process's peak RSS during the report (VmHWM, reset through \`/proc/<pid>/clear_refs\` just before) minus its RSS just before; on PGlite the database runs inside that process, so its work is counted too.`,
      '',
      resultsTable(rows),
      '',
      ...notes,
      ...READING,
    ].join('\n'),
  };
}

export const analyticsBenchmark: Benchmark = {
  name: 'analytics',
  summary: 'quiz report at 10k attempts × 30 questions vs one per-question SELECT; API memory',
  async run(context) {
    const outcomes: Outcome[] = [];
    for (const kind of ['postgres', 'pglite'] as const)
      outcomes.push(await measureBackend(kind, context));
    return section(outcomes, context);
  },
};
