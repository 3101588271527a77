/**
 * Child process of the exam-start and autosave benchmarks, run as
 * `node --import tsx bench/lib/assay-fixtures.ts <command> <input.json> <output.json>` with the
 * environment the Assay server gets (DATABASE_URL or DATA_DIR, JWT_SECRET), before the server
 * starts or after it has stopped: the embedded database lives inside one process at a time.
 *
 *   setup     an instructor, the question bank and published quizzes, then the students, through
 *             Assay's own services and repositories; an access token per student, signed with
 *             Assay's own token code and the shared JWT_SECRET; optionally every student's
 *             attempt at the first quiz, started with the attempts service
 *   attempts  per quiz: attempts, active attempts, distinct students with an active attempt
 *   answers   the stored answers of every attempt at one quiz, as (student, question, answer)
 *
 * Students are inserted with the users repository and one shared argon2id hash (a real hash of
 * a real password, so each could sign in): `users.createActive` would hash 2,000 times, about
 * 60 ms each, for nothing the benchmarks measure.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { createDeps } from '../../src/deps.ts';
import { questionInput } from '../../src/modules/questions/questions.schemas.ts';
import { presentForStudent } from '../../src/modules/questions/questions.service.ts';
import { createQuizBody } from '../../src/modules/quizzes/quizzes.schemas.ts';
import { createUsersRepository } from '../../src/modules/users/users.repository.ts';
import { parseConfig } from '../../src/platform/config/config.ts';
import { hashPassword } from '../../src/platform/crypto/password.ts';
import { type Database, openDatabase } from '../../src/platform/db/database.ts';
import type { Principal } from '../../src/platform/http/access.ts';
import { createLogger } from '../../src/platform/logger/logger.ts';
import { startWorkerRole } from '../../src/worker.ts';

export type SetupInput = {
  /** Distinguishes this run's accounts (emails are unique). */
  tag: string;
  students: number;
  quizzes: number;
  quiz: {
    title: string;
    durationMinutes: number;
    shuffleQuestions: boolean;
    shuffleOptions: boolean;
  };
  /** Start every student's attempt at the first quiz (through the attempts service). */
  startAttempts?: boolean;
};

export type FixtureQuestion = {
  id: string;
  type: string;
  /** Option ids in the author's order (choice questions). */
  optionIds: string[];
};

export type Fixtures = {
  students: Array<{ id: string; token: string; attemptId?: string }>;
  instructorToken: string;
  questions: FixtureQuestion[];
  /** The questions as a student sees them (no keys), in the author's order. */
  studentPaper: unknown[];
  quizIds: string[];
  /** performance.timeOrigin + now() when the tokens were signed (they last 15 minutes). */
  signedAt: number;
  timings: Record<string, number>;
};

export type AttemptCounts = Array<{
  quizId: string;
  attempts: number;
  active: number;
  activeStudents: number;
  students: number;
}>;

export type StoredAnswers = Array<[userId: string, questionId: string, answer: unknown]>;

const PASSWORD = 'bench-student-password-42-long';
const WORDS =
  'which statement about the following program is correct when it runs with the input shown below and every value is read once'.split(
    ' ',
  );

/** Text of about `length` characters, different per `seed`, so questions have a realistic size. */
const prose = (seed: number, length: number) => {
  const words: string[] = [];
  let size = 0;
  for (let index = 0; size < length; index += 1) {
    const word = WORDS[(seed * 7 + index * 3) % WORDS.length]!;
    words.push(word);
    size += word.length + 1;
  }
  return words.join(' ');
};

/**
 * Twenty questions of the kinds an exam mixes: 12 single choice (4 options), 2 multiple choice
 * (5 options), 4 short answer, 2 numeric; prompts of about 300 characters, options of about 40.
 */
function questionBank(): unknown[] {
  const bank: unknown[] = [];
  const options = (seed: number, count: number, correct: number[]) =>
    Array.from({ length: count }, (_, index) => ({
      text: `${String.fromCharCode(65 + index)}. ${prose(seed + index, 36)}`,
      correct: correct.includes(index),
    }));
  for (let index = 0; index < 20; index += 1) {
    const prompt = `Q${index + 1}. ${prose(index, 300)}?`;
    if (index < 12) {
      bank.push({ type: 'single_choice', prompt, options: options(index, 4, [index % 4]) });
    } else if (index < 14) {
      bank.push({ type: 'multiple_choice', prompt, options: options(index, 5, [0, 2]) });
    } else if (index < 18) {
      bank.push({ type: 'short_answer', prompt, accepted: [`answer ${index}`] });
    } else {
      bank.push({ type: 'numeric', prompt, correct: index * 3, tolerance: 0.5 });
    }
  }
  return bank;
}

function loadConfig() {
  const parsed = parseConfig(process.env);
  if (!parsed.ok) throw new Error(`config: ${parsed.problems.join('; ')}`);
  return parsed.config;
}

async function setup(input: SetupInput): Promise<Fixtures> {
  const timings: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = now - mark;
    mark = now;
  };
  const config = loadConfig();
  const logger = createLogger({ level: 'warn' });
  const deps = await createDeps(config, logger);
  try {
    lap('open and migrate');
    const instructor = await deps.users.createActive({
      email: `bench-instructor-${input.tag}@example.com`,
      name: 'Bench Instructor',
      role: 'instructor',
      password: PASSWORD,
    });
    const principal: Principal = {
      userId: instructor.id,
      role: 'instructor',
      email: instructor.email,
      name: instructor.name,
    };
    const instructorToken = (
      await deps.accessTokens.sign({ userId: instructor.id, role: 'instructor', tokenVersion: 0 })
    ).token;

    const questions: FixtureQuestion[] = [];
    for (const raw of questionBank()) {
      const created = await deps.questions.create(questionInput.parse(raw), instructor.id);
      questions.push({
        id: created.id,
        type: created.type,
        optionIds: 'options' in created ? created.options.map((option) => option.id) : [],
      });
    }
    const rows = await deps.questions.rowsByIds(questions.map((question) => question.id));
    const byId = new Map(rows.map((row) => [row.id, row]));
    const studentPaper = questions.map((question) => presentForStudent(byId.get(question.id)!));

    lap('question bank');

    const quizIds: string[] = [];
    for (let index = 0; index < input.quizzes; index += 1) {
      const quiz = await deps.quizzes.create(
        principal,
        createQuizBody.parse({
          title: `${input.quiz.title} ${index + 1}`,
          durationMinutes: input.quiz.durationMinutes,
          shuffleQuestions: input.quiz.shuffleQuestions,
          shuffleOptions: input.quiz.shuffleOptions,
          questions: questions.map((question) => ({ questionId: question.id })),
        }),
      );
      await deps.quizzes.publish(principal, quiz.id);
      quizIds.push(quiz.id);
    }
    lap('quizzes (created and published)');
    // Publishing announces the quiz by mail to every student there is (a job per page of
    // students). On exam day that happened long before, so the quizzes are published before
    // the benchmark's students exist and the app's own workers run here until every job is
    // done: the server under test starts with no mail to send.
    const workers = await startWorkerRole(deps);
    try {
      timings['mail jobs drained'] = await drainJobs(deps.database.db);
      mark = performance.now();
    } finally {
      await workers.close(10_000);
    }

    const passwordHash = await hashPassword(PASSWORD);
    const users = createUsersRepository(deps.database.db);
    const students: Fixtures['students'] = new Array(input.students);
    const BATCH = 25;
    for (let start = 0; start < input.students; start += BATCH) {
      await Promise.all(
        Array.from({ length: Math.min(BATCH, input.students - start) }, async (_, offset) => {
          const index = start + offset;
          const row = await users.insert({
            id: crypto.randomUUID(),
            email: `bench-${input.tag}-${index}@example.com`,
            name: `Student ${index}`,
            role: 'student',
            passwordHash,
            status: 'active',
            createdAt: new Date(),
          });
          students[index] = { id: row.id, token: '' };
        }),
      );
    }
    lap('students');
    for (let start = 0; start < students.length; start += BATCH) {
      await Promise.all(
        students.slice(start, start + BATCH).map(async (student) => {
          // The token version the authenticator will compare against, as Assay reads it.
          const state = await deps.users.authState(student.id);
          if (!state?.active) throw new Error(`student ${student.id} is not active`);
          student.token = (
            await deps.accessTokens.sign({
              userId: student.id,
              role: 'student',
              tokenVersion: state.tokenVersion,
            })
          ).token;
        }),
      );
    }
    lap('tokens');
    const firstQuiz = quizIds[0];
    if (input.startAttempts && firstQuiz) {
      for (let start = 0; start < students.length; start += BATCH) {
        await Promise.all(
          students.slice(start, start + BATCH).map(async (student, offset) => {
            const index = start + offset;
            const { attempt, created } = await deps.attempts.start(
              {
                userId: student.id,
                role: 'student',
                email: `bench-${input.tag}-${index}@example.com`,
                name: `Student ${index}`,
              },
              firstQuiz,
            );
            if (!created) throw new Error(`student ${student.id} already had an attempt`);
            student.attemptId = attempt.id;
          }),
        );
      }
      lap('attempts started');
    }

    return {
      students,
      instructorToken,
      questions,
      studentPaper,
      quizIds,
      signedAt: performance.timeOrigin + performance.now(),
      timings,
    };
  } finally {
    await deps.close();
  }
}

/** Waits until no job is running or due; returns how long that took (ms). */
async function drainJobs(db: Database): Promise<number> {
  const startedAt = performance.now();
  const deadline = startedAt + 10 * 60_000;
  for (;;) {
    const [row] = rowsOf(
      await db.execute(sql`
        select count(*)::int as open from jobs
        where status = 'running' or (status = 'pending' and run_at <= now())`),
    );
    if (Number(row?.open ?? 0) === 0) return performance.now() - startedAt;
    if (performance.now() > deadline) throw new Error('jobs still open after 10 minutes');
    await sleep(200);
  }
}

/** Only the database: no queue, no Redis, nothing else of the app. */
async function withDatabase<T>(work: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>) {
  const config = loadConfig();
  const logger = createLogger({ level: 'warn' });
  const database = config.database.url
    ? await openDatabase({ kind: 'postgres', url: config.database.url, poolMax: 2, logger })
    : await openDatabase({ kind: 'pglite', dataDir: resolve(config.dataDir, 'db'), logger });
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}

const rowsOf = (result: unknown) => (result as { rows: Array<Record<string, unknown>> }).rows;

async function attemptCounts(input: { quizIds: string[] }): Promise<AttemptCounts> {
  return withDatabase(async ({ db }) => {
    const counts: AttemptCounts = [];
    for (const quizId of input.quizIds) {
      const [row] = rowsOf(
        await db.execute(sql`
          select count(*)::int as attempts,
                 count(*) filter (where status = 'active')::int as active,
                 count(distinct user_id) filter (where status = 'active')::int as active_students,
                 count(distinct user_id)::int as students
          from attempts where quiz_id = ${quizId}`),
      );
      counts.push({
        quizId,
        attempts: Number(row?.attempts ?? 0),
        active: Number(row?.active ?? 0),
        activeStudents: Number(row?.active_students ?? 0),
        students: Number(row?.students ?? 0),
      });
    }
    return counts;
  });
}

async function storedAnswers(input: { quizId: string }): Promise<StoredAnswers> {
  return withDatabase(async ({ db }) => {
    const rows = rowsOf(
      await db.execute(sql`
        select a.user_id, aa.question_id, aa.answer
        from attempt_answers aa join attempts a on a.id = aa.attempt_id
        where a.quiz_id = ${input.quizId}`),
    );
    return rows.map((row) => [String(row.user_id), String(row.question_id), row.answer]);
  });
}

const [command, inputFile, outputFile] = process.argv.slice(2);
if (!command || !inputFile || !outputFile) {
  throw new Error('usage: assay-fixtures.ts <setup|attempts|answers> <input.json> <output.json>');
}
const input = JSON.parse(readFileSync(inputFile, 'utf8'));
const output =
  command === 'setup'
    ? await setup(input as SetupInput)
    : command === 'attempts'
      ? await attemptCounts(input as { quizIds: string[] })
      : command === 'answers'
        ? await storedAnswers(input as { quizId: string })
        : undefined;
if (output === undefined) throw new Error(`unknown command ${command}`);
writeFileSync(outputFile, JSON.stringify(output));
process.exit(0);
