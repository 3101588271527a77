import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AttemptCounts, Fixtures, SetupInput, StoredAnswers } from './assay-fixtures.ts';
import { type Child, start, waitForExit } from './children.ts';
import { HOST, waitForOk } from './net.ts';
import {
  type BenchDatabase,
  type BenchRedis,
  createDatabase,
  openRedis,
  REDIS_URL,
} from './postgres.ts';
import { assayEnv, freshDir, REPO_ROOT, removeDir } from './servers.ts';

/**
 * What the exam-start and autosave benchmarks run Assay on: PostgreSQL and Redis (a fresh
 * database and a key prefix of its own per run, both removed afterwards), or the embedded
 * database (DATABASE_URL and REDIS_URL unset: PGlite inside the server process and the
 * in-process queue), each with a reference server on the same kind of database.
 */
export type BackendKind = 'postgres' | 'pglite';

/**
 * Per-user and anonymous limits raised so that no answer is a 429: 2,000 students behind one
 * IP (the load generator's) and the closed-loop ceiling's many saves per student per minute
 * are not what the default limits (600 per user, 300 per IP per minute) are for.
 */
export const RAISED_RATE_LIMIT = '10000000';

/**
 * BENCH_PROFILE_DIR=dir writes a V8 CPU profile of every Assay and reference server the run
 * starts into dir, for finding where a request's time goes; the figures of such a run are not
 * results.
 */
function profiling(): string[] {
  const dir = process.env.BENCH_PROFILE_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

export type Backend = {
  kind: BackendKind;
  dir: string;
  database: BenchDatabase | undefined;
  redis: BenchRedis | undefined;
  /** The environment of Assay and of the fixture child (which gets no Redis). */
  assayEnv(port: number): NodeJS.ProcessEnv;
  fixtures: {
    setup(input: SetupInput): Promise<Fixtures>;
    attempts(quizIds: readonly string[]): Promise<AttemptCounts>;
    answers(quizId: string): Promise<StoredAnswers>;
  };
  startAssay(port: number): Promise<Child>;
  startReference(port: number, paper: readonly unknown[]): Promise<Child>;
  /** Drops the database, deletes the Redis keys and the directory. */
  close(): Promise<void>;
};

export async function openBackend(kind: BackendKind, name: string): Promise<Backend> {
  const dir = await freshDir(`${name}-${kind}`);
  let database: BenchDatabase | undefined;
  let redis: BenchRedis | undefined;
  try {
    if (kind === 'postgres') {
      database = await createDatabase(`assay_bench_${name.replaceAll('-', '_')}`);
      redis = await openRedis(`assaybench-${name}-`);
    }
  } catch (error) {
    await database?.close();
    await removeDir(dir);
    throw error;
  }
  const jwtSecret = randomBytes(36).toString('base64url');
  const dataDir = join(dir, 'data');
  const env = (port: number): NodeJS.ProcessEnv => ({
    ...assayEnv(port, dataDir),
    DATABASE_URL: database?.url ?? '',
    REDIS_URL: redis ? REDIS_URL : '',
    ...(redis ? { REDIS_PREFIX: redis.prefix } : {}),
    JWT_SECRET: jwtSecret,
    RATE_LIMIT_USER_PER_MINUTE: RAISED_RATE_LIMIT,
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: RAISED_RATE_LIMIT,
  });

  let calls = 0;
  const fixture = async <T>(command: string, input: unknown): Promise<T> => {
    calls += 1;
    const inputFile = join(dir, `fixture-${calls}-in.json`);
    const outputFile = join(dir, `fixture-${calls}-out.json`);
    writeFileSync(inputFile, JSON.stringify(input));
    const child = start(
      `fixtures ${command}`,
      process.execPath,
      ['--import', 'tsx', 'bench/lib/assay-fixtures.ts', command, inputFile, outputFile],
      // No Redis: the fixtures need only the database (and run the queue in-process).
      { cwd: REPO_ROOT, env: { ...env(0), PORT: '8000', REDIS_URL: '' } },
    );
    const exit = await waitForExit(child, 10 * 60_000);
    await child.closed;
    if (exit.code !== 0) {
      throw new Error(
        `fixtures ${command} failed (exit ${exit.code ?? exit.signal}):\n${child.output()}`,
      );
    }
    return JSON.parse(readFileSync(outputFile, 'utf8')) as T;
  };

  return {
    kind,
    dir,
    database,
    redis,
    assayEnv: env,
    fixtures: {
      setup: (input) => fixture<Fixtures>('setup', input),
      attempts: (quizIds) => fixture<AttemptCounts>('attempts', { quizIds }),
      answers: (quizId) => fixture<StoredAnswers>('answers', { quizId }),
    },
    async startAssay(port) {
      const args = [...profiling(), 'bin/assay.mjs', 'serve'];
      const child = start('assay serve', process.execPath, args, {
        cwd: REPO_ROOT,
        env: env(port),
      });
      await waitForOk(child, port, '/health');
      return child;
    },
    async startReference(port, paper) {
      const paperFile = join(dir, 'paper.json');
      writeFileSync(paperFile, JSON.stringify(paper));
      const child = start(
        `reference (Fastify + ${kind === 'postgres' ? 'pg' : 'PGlite'})`,
        process.execPath,
        [...profiling(), '--import', 'tsx', 'bench/lib/reference-server.ts'],
        {
          cwd: REPO_ROOT,
          env: {
            ...process.env,
            PORT: String(port),
            HOST,
            REF_DATABASE: kind,
            DATABASE_URL: database?.url ?? '',
            REF_DATA_DIR: join(dir, 'reference-db'),
            PAPER_FILE: paperFile,
          },
        },
      );
      await waitForOk(child, port, '/health');
      return child;
    },
    async close() {
      await redis?.close().catch(() => undefined);
      await database?.close();
      await removeDir(dir);
    },
  };
}

export const describeBackend = (kind: BackendKind) =>
  kind === 'postgres'
    ? 'PostgreSQL (`DATABASE_URL`, a fresh database, pool of 10) and Redis (`REDIS_URL`, a key prefix of its own)'
    : 'the embedded database (`DATABASE_URL` and `REDIS_URL` unset: PGlite in the server process, in-process queue)';
