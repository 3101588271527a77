/**
 * The reference of the exam-start and autosave benchmarks: the physical floor of each mechanism.
 * Bare Fastify (no plugins, no schemas, no auth, no rate limit), one database statement per
 * request, listening with a backlog of 4096, stopped on SIGTERM. Run as
 * `node --import tsx bench/lib/reference-server.ts` with
 *
 *   PORT, HOST
 *   REF_DATABASE   `postgres` (DATABASE_URL, a pg Pool of DATABASE_POOL_MAX, Assay's default 10)
 *                  or `pglite` (in this process, on disk in REF_DATA_DIR)
 *   PAPER_FILE     JSON: the quiz's questions as a student sees them (Assay's presentForStudent)
 *
 * Routes, at Assay's paths and with Assay's request and response shapes:
 *
 *   POST /api/v1/attempts/quizzes/:quizId/start   lays out the questions (question and option
 *       order drawn with crypto.randomInt, as Assay does), one INSERT into a copy of Assay's
 *       `attempts` table (same columns, check and indexes), 201 with the attempt and its
 *       questions in that order. The caller is read from the bearer token's payload without
 *       verifying it: checking who calls is Assay's work, not the floor's.
 *   GET  /api/v1/attempts/:id   one SELECT of the attempt's layout, 200 with its questions.
 *   POST /api/v1/attempts/:id/answers   one `INSERT … ON CONFLICT DO UPDATE` into a copy of
 *       `attempt_answers` (same columns and primary key), 200 `{ questionId, savedAt }`.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

type Query = (
  text: string,
  values?: unknown[],
) => Promise<{ rows: Array<Record<string, unknown>> }>;
type StudentQuestion = { id: string; options?: Array<{ id: string; text: string }> };
type Slot = { questionId: string; points: number; optionIds?: string[] };

const SCHEMA = [
  `create table if not exists bench_ref_attempts (
    id text primary key not null,
    quiz_id text not null,
    user_id text not null,
    number integer not null,
    status text default 'active' not null,
    slots jsonb not null,
    started_at timestamp with time zone not null,
    expires_at timestamp with time zone,
    submitted_at timestamp with time zone,
    ended_by text,
    score numeric(12, 6),
    max_score numeric(12, 6) not null,
    outcomes jsonb,
    focus_losses integer default 0 not null,
    event_counts jsonb default '{}'::jsonb not null,
    flagged boolean default false not null,
    flagged_reason text,
    constraint bench_ref_attempts_status_check
      check (status in ('active', 'submitted', 'grading', 'graded', 'expired'))
  )`,
  `create unique index if not exists bench_ref_attempts_one_active_idx
    on bench_ref_attempts (quiz_id, user_id) where status = 'active'`,
  `create unique index if not exists bench_ref_attempts_number_idx
    on bench_ref_attempts (quiz_id, user_id, number)`,
  `create index if not exists bench_ref_attempts_user_idx on bench_ref_attempts (user_id, started_at)`,
  `create index if not exists bench_ref_attempts_due_idx
    on bench_ref_attempts (expires_at) where status = 'active'`,
  `create table if not exists bench_ref_answers (
    attempt_id text not null,
    question_id text not null,
    answer jsonb not null,
    saved_at timestamp with time zone not null,
    constraint bench_ref_answers_pk primary key (attempt_id, question_id)
  )`,
];

async function openQuery(): Promise<{ query: Query; close: () => Promise<void> }> {
  if (process.env.REF_DATABASE === 'pglite') {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create({ dataDir: process.env.REF_DATA_DIR });
    return {
      query: (text, values) => db.query<Record<string, unknown>>(text, values) as ReturnType<Query>,
      close: () => db.close(),
    };
  }
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL,
    max: Number(process.env.DATABASE_POOL_MAX ?? 10),
    // As Assay's pool (src/platform/db/database.ts).
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'bench-reference',
  });
  return { query: (text, values) => pool.query(text, values), close: () => pool.end() };
}

function shuffle<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = randomInt(index + 1);
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

const paper = JSON.parse(readFileSync(process.env.PAPER_FILE ?? '', 'utf8')) as StudentQuestion[];
const byId = new Map(paper.map((question) => [question.id, question]));

const present = (slots: Slot[]) =>
  slots.map((slot) => {
    const question = byId.get(slot.questionId)!;
    if (!question.options || !slot.optionIds) return question;
    const options = new Map(question.options.map((option) => [option.id, option]));
    return { ...question, options: slot.optionIds.map((id) => options.get(id)!) };
  });

const userOf = (authorization: string | undefined) => {
  const payload = authorization?.split('.')[1];
  if (!payload) return undefined;
  const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown })
    .sub;
  return typeof sub === 'string' ? sub : undefined;
};

const { query, close } = await openQuery();
for (const statement of SCHEMA) await query(statement);

const app = Fastify({ logger: false });
app.get('/health', async () => ({ status: 'ok' }));

app.post<{ Params: { quizId: string } }>(
  '/api/v1/attempts/quizzes/:quizId/start',
  async (request, reply) => {
    const userId = userOf(request.headers.authorization);
    if (!userId) return reply.status(401).send({ error: 'no token' });
    const slots: Slot[] = shuffle(paper).map((question) => ({
      questionId: question.id,
      points: 1,
      ...(question.options
        ? { optionIds: shuffle(question.options.map((option) => option.id)) }
        : {}),
    }));
    const id = randomUUID();
    const startedAt = new Date();
    const expiresAt = new Date(startedAt.getTime() + 60 * 60_000);
    await query(
      `insert into bench_ref_attempts
        (id, quiz_id, user_id, number, status, slots, started_at, expires_at, max_score)
       values ($1, $2, $3, 1, 'active', $4::jsonb, $5, $6, $7)`,
      [
        id,
        request.params.quizId,
        userId,
        JSON.stringify(slots),
        startedAt,
        expiresAt,
        String(slots.length),
      ],
    );
    return reply.status(201).send({
      id,
      quizId: request.params.quizId,
      number: 1,
      status: 'active',
      startedAt: startedAt.toISOString(),
      expiresAt: expiresAt.toISOString(),
      remainingSeconds: 3600,
      submittedAt: null,
      endedBy: null,
      questions: present(slots),
      answers: {},
    });
  },
);

app.get<{ Params: { id: string } }>('/api/v1/attempts/:id', async (request, reply) => {
  const { rows } = await query(
    'select quiz_id, slots, started_at, expires_at from bench_ref_attempts where id = $1',
    [request.params.id],
  );
  const row = rows[0];
  if (!row) return reply.status(404).send({ error: 'not found' });
  const expiresAt = row.expires_at as Date;
  return {
    id: request.params.id,
    quizId: row.quiz_id,
    number: 1,
    status: 'active',
    startedAt: (row.started_at as Date).toISOString(),
    expiresAt: expiresAt.toISOString(),
    remainingSeconds: Math.max(0, Math.ceil((expiresAt.getTime() - Date.now()) / 1000)),
    submittedAt: null,
    endedBy: null,
    questions: present(row.slots as Slot[]),
    answers: {},
  };
});

app.post<{ Params: { id: string }; Body: { questionId?: unknown; answer?: unknown } }>(
  '/api/v1/attempts/:id/answers',
  async (request, reply) => {
    const { questionId, answer } = request.body ?? {};
    if (typeof questionId !== 'string' || answer === undefined)
      return reply.status(400).send({ error: 'questionId and answer' });
    const savedAt = new Date();
    await query(
      `insert into bench_ref_answers (attempt_id, question_id, answer, saved_at)
       values ($1, $2, $3::jsonb, $4)
       on conflict (attempt_id, question_id)
         do update set answer = excluded.answer, saved_at = excluded.saved_at`,
      [request.params.id, questionId, JSON.stringify(answer), savedAt],
    );
    return { questionId, savedAt: savedAt.toISOString() };
  },
);

process.on('SIGTERM', () => {
  app
    .close()
    .then(close)
    .finally(() => process.exit(0));
});
await app.listen({ port: Number(process.env.PORT), host: process.env.HOST, backlog: 4096 });
