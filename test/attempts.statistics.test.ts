import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerRecord } from '../src/modules/attempts/attempts.models.ts';
import {
  ATTEMPT_SELECTIONS,
  type AttemptSelection,
  createAttemptStatistics,
} from '../src/modules/attempts/attempts.statistics.ts';
import {
  type AttemptRow,
  attemptAnswers,
  attempts,
  type QuestionOutcome,
} from '../src/modules/attempts/attempts.tables.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.ts';

/**
 * The attempts module's analytics SQL against a naive implementation in this file (every row
 * in memory, two passes, sorted pairing by sorting), on a random but fixed dataset with
 * several attempts per user, partial credit, unfinished attempts and a question only some
 * attempts showed. Half the users' attempts were submitted before outcomes recorded what was
 * answered and picked: those are counted from their saved answers; the others' saved answers
 * are not inserted at all, so they can only be counted from their outcomes.
 */

const QUIZ = 'quiz-stats';
const QUESTIONS = [
  { id: 'q-single', max: 1, type: 'single_choice', choice: ['a', 'b', 'c'] },
  { id: 'q-multi', max: 2, type: 'multiple_choice', choice: ['x', 'y', 'z'] },
  { id: 'q-truth', max: 1, type: 'true_false', choice: [true, false] },
  { id: 'q-short', max: 3, type: 'short_answer' },
  { id: 'q-sometimes', max: 0.5, type: 'short_answer' },
] as const;

/** A small deterministic generator (mulberry32), so failures reproduce. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Generated = {
  row: typeof attempts.$inferInsert;
  answers: Array<{ questionId: string; answer: unknown }>;
  /** Submitted before outcomes recorded answers: only its saved answers tell. */
  legacy: boolean;
};

function generate(): Generated[] {
  const next = random(20260101);
  const out: Generated[] = [];
  const start = Date.parse('2026-01-05T09:00:00Z');
  for (let user = 0; user < 36; user++) {
    const ability = next();
    const count = 1 + Math.floor(next() * 3);
    for (let number = 1; number <= count; number++) {
      const shown = QUESTIONS.filter((q) => q.id !== 'q-sometimes' || next() < 0.6);
      const answers: Generated['answers'] = [];
      const outcomes: QuestionOutcome[] = shown.map((q) => {
        // Partial credit in quarters; abler users score more.
        const earned = Math.round(Math.min(1, ability * 1.2 * next() + 0.1) * 4) / 4;
        const mark = earned * q.max;
        if ('choice' in q && next() < 0.9) {
          const options = q.choice as readonly unknown[];
          const answer =
            q.id === 'q-multi'
              ? options.filter(() => next() < 0.5)
              : options[Math.floor(next() * options.length)];
          answers.push({ questionId: q.id, answer });
        } else if (!('choice' in q) && next() < 0.8) {
          answers.push({ questionId: q.id, answer: `text ${Math.floor(next() * 5)}` });
        }
        const saved = answers.find((a) => a.questionId === q.id)?.answer;
        return {
          questionId: q.id,
          status: 'scored',
          earned: mark,
          max: q.max,
          correct: earned === 1,
          ...(user % 2 === 0 ? {} : answerRecord(q.type, saved)),
        };
      });
      const status: AttemptRow['status'] =
        number === count && next() < 0.1
          ? next() < 0.5
            ? 'active'
            : 'grading'
          : next() < 0.2
            ? 'expired'
            : 'graded';
      const startedAt = new Date(start + (user * 10 + number) * 3_600_000);
      const total = outcomes.reduce((sum, o) => sum + o.earned, 0);
      out.push({
        row: {
          id: randomUUID(),
          quizId: QUIZ,
          userId: `user-${user}`,
          number,
          status,
          slots: shown.map((q) => ({ questionId: q.id, points: q.max })),
          startedAt,
          submittedAt:
            status === 'active' ? null : new Date(startedAt.getTime() + (300 + user * 7) * 1000),
          endedBy: status === 'active' ? null : status === 'expired' ? 'timer' : 'student',
          score: status === 'active' ? null : String(total),
          maxScore: String(shown.reduce((sum, q) => sum + q.max, 0)),
          outcomes: status === 'active' ? null : outcomes,
          // As submit records it (and the migration backfilled it for older attempts).
          earned: status === 'active' ? null : total,
        },
        answers,
        legacy: user % 2 === 0,
      });
    }
  }
  return out;
}

// The naive implementation.
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const mean = (values: number[]) => sum(values) / values.length;
const sampleCov = (xs: number[], ys: number[]) => {
  const mx = mean(xs);
  const my = mean(ys);
  return sum(xs.map((x, i) => (x - mx) * ((ys[i] as number) - my))) / (xs.length - 1);
};

function counted(data: Generated[], selection: AttemptSelection) {
  const finished = data.filter((g) => g.row.status === 'graded' || g.row.status === 'expired');
  if (selection === 'all') return finished;
  const pct = (g: Generated) => Number(g.row.score) / Number(g.row.maxScore);
  const byUser = new Map<string, Generated[]>();
  for (const g of finished) byUser.set(g.row.userId, [...(byUser.get(g.row.userId) ?? []), g]);
  return [...byUser.values()].map((mine) =>
    mine.reduce((best, g) => {
      if (selection === 'first') return g.row.number < best.row.number ? g : best;
      if (selection === 'last') return g.row.number > best.row.number ? g : best;
      return pct(g) > pct(best) || (pct(g) === pct(best) && g.row.number < best.row.number)
        ? g
        : best;
    }),
  );
}

describe.each(databaseKinds())('quiz aggregates in SQL on %s', (kind) => {
  let database: TestDatabase;
  let statistics: ReturnType<typeof createAttemptStatistics>;
  const data = generate();

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await database.db.insert(attempts).values(data.map((g) => g.row));
    const answerRows = data.flatMap((g) =>
      (g.legacy ? g.answers : []).map((a) => ({
        attemptId: g.row.id as string,
        questionId: a.questionId,
        answer: a.answer,
        savedAt: g.row.startedAt as Date,
      })),
    );
    await database.db.insert(attemptAnswers).values(answerRows);
    statistics = createAttemptStatistics(database.db);
  });
  afterAll(async () => {
    await database.destroy();
  });

  it.each(ATTEMPT_SELECTIONS)('agree with every row in memory (%s attempts)', async (selection) => {
    const rows = counted(data, selection);
    const result = await statistics.quizAggregates({
      quizId: QUIZ,
      selection,
      choiceQuestionIds: ['q-single', 'q-multi', 'q-truth'],
    });
    const all = data.map((g) => g.row);
    expect(result.attempts).toEqual({
      started: all.length,
      participants: new Set(all.map((r) => r.userId)).size,
      active: all.filter((r) => r.status === 'active').length,
      grading: all.filter((r) => r.status === 'grading').length,
      finished: all.filter((r) => r.status === 'graded' || r.status === 'expired').length,
      endedByStudent: all.filter((r) => r.endedBy === 'student').length,
      endedByTimer: all.filter((r) => r.endedBy === 'timer').length,
      endedByFocusLimit: 0,
    });

    const pct = rows.map((g) => (100 * Number(g.row.score)) / Number(g.row.maxScore));
    const m = mean(pct);
    const sorted = [...pct].sort((a, b) => a - b);
    const middle = sorted.length / 2;
    expect(result.scores.n).toBe(rows.length);
    expect(result.scores.mean).toBeCloseTo(m, 9);
    expect(result.scores.median).toBeCloseTo(
      sorted.length % 2
        ? (sorted[Math.floor(middle)] as number)
        : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2,
      9,
    );
    expect(result.scores.min).toBeCloseTo(sorted[0] as number, 9);
    expect(result.scores.max).toBeCloseTo(sorted.at(-1) as number, 9);
    for (const [power, key] of [
      [2, 'sum2'],
      [3, 'sum3'],
      [4, 'sum4'],
    ] as const)
      expect(result.scores[key]).toBeCloseTo(sum(pct.map((p) => (p - m) ** power)), 6);
    expect(result.scores.averageSeconds).toBeCloseTo(
      mean(
        rows.map(
          (g) =>
            ((g.row.submittedAt as Date).getTime() - (g.row.startedAt as Date).getTime()) / 1000,
        ),
      ),
      6,
    );
    const buckets = new Map<number, number>();
    for (const p of pct) {
      const bucket = Math.min(9, Math.floor(p / 10));
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
    }
    expect(new Map(result.histogram.map((b) => [b.bucket, b.count]))).toEqual(buckets);

    expect(result.questions.map((q) => q.questionId).sort()).toEqual(
      QUESTIONS.map((q) => q.id).sort(),
    );
    for (const question of QUESTIONS) {
      const items = rows.flatMap((g) => {
        const outcomes = g.row.outcomes as QuestionOutcome[];
        const own = outcomes.find((o) => o.questionId === question.id);
        return own
          ? [{ mark: own.earned, rest: sum(outcomes.map((o) => o.earned)) - own.earned }]
          : [];
      });
      const marks = items.map((i) => i.mark);
      const rests = items.map((i) => i.rest);
      const got = result.questions.find((q) => q.questionId === question.id);
      expect(got?.n, question.id).toBe(items.length);
      expect(got?.maxMark).toBe(question.max);
      expect(got?.meanFraction).toBeCloseTo(mean(marks) / question.max, 9);
      expect(got?.varFraction).toBeCloseTo(sampleCov(marks, marks) / question.max ** 2, 9);
      expect(got?.meanMark).toBeCloseTo(mean(marks), 9);
      expect(got?.meanRest).toBeCloseTo(mean(rests), 9);
      expect(got?.varMark).toBeCloseTo(sampleCov(marks, marks), 9);
      expect(got?.varRest).toBeCloseTo(sampleCov(rests, rests), 9);
      expect(got?.covariance).toBeCloseTo(sampleCov(marks, rests), 9);
      const sortedMarks = [...marks].sort((a, b) => a - b);
      const sortedRests = [...rests].sort((a, b) => a - b);
      expect(got?.covarianceMax, `${question.id} covariance max`).toBeCloseTo(
        sampleCov(sortedMarks, sortedRests),
        9,
      );
    }

    const ids = new Set(rows.map((g) => g.row.id));
    const answers = data.filter((g) => ids.has(g.row.id)).flatMap((g) => g.answers);
    const blank = (a: unknown) => a === '' || (Array.isArray(a) && a.length === 0);
    const answered = new Map<string, number>();
    const picks = new Map<string, number>();
    for (const a of answers.filter((a) => !blank(a.answer))) {
      answered.set(a.questionId, (answered.get(a.questionId) ?? 0) + 1);
      if (a.questionId === 'q-short' || a.questionId === 'q-sometimes') continue;
      for (const option of Array.isArray(a.answer) ? a.answer : [a.answer]) {
        const key = `${a.questionId}:${String(option)}`;
        picks.set(key, (picks.get(key) ?? 0) + 1);
      }
    }
    expect(new Map(result.answered.map((a) => [a.questionId, a.count]))).toEqual(answered);
    expect(new Map(result.picks.map((p) => [`${p.questionId}:${p.optionId}`, p.count]))).toEqual(
      picks,
    );
  });

  it('is empty, not an error, for a quiz nobody finished', async () => {
    const result = await statistics.quizAggregates({
      quizId: 'no-such-quiz',
      selection: 'first',
      choiceQuestionIds: [],
    });
    expect(result.scores).toMatchObject({ n: 0, mean: null, median: null, sum2: null });
    expect(result.questions).toEqual([]);
    expect(result.histogram).toEqual([]);
    expect(result.attempts.started).toBe(0);
  });

  it('backfills the recorded total of attempts scored before it was kept (migration 0013)', async () => {
    const backfill = readFileSync(
      new URL('../drizzle/0013_attempt_earned.sql', import.meta.url),
      'utf8',
    ).split('--> statement-breakpoint')[1];
    await database.db.execute(sql`update attempts set earned = null`);
    await database.db.execute(sql.raw(backfill ?? 'select 1'));
    const rows = await database.db
      .select({ id: attempts.id, earned: attempts.earned })
      .from(attempts);
    const byId = new Map(rows.map((row) => [row.id, row.earned]));
    expect(backfill).toContain('UPDATE');
    for (const { row } of data) {
      const earned = byId.get(row.id as string);
      if (row.earned === null) expect(earned).toBeNull();
      else expect(earned).toBeCloseTo(row.earned as number, 9);
    }
  });
  it('keeps the outcome arrays equal to the outcomes, element by element, also after a regrade (migration 0014)', async () => {
    const columns = {
      id: attempts.id,
      outcomes: attempts.outcomes,
      questions: attempts.outcomeQuestions,
      marks: attempts.outcomeMarks,
      maxima: attempts.outcomeMaxima,
      answered: attempts.outcomeAnswered,
      picks: attempts.outcomePicks,
    };
    const check = (row: Awaited<ReturnType<typeof read>>[number]) => {
      if (row.outcomes === null) {
        expect(row.questions).toBeNull();
        return;
      }
      expect(row.questions).toEqual(row.outcomes.map((o) => o.questionId));
      expect(row.marks).toEqual(row.outcomes.map((o) => o.earned));
      expect(row.maxima).toEqual(row.outcomes.map((o) => o.max));
      expect(row.answered).toEqual(row.outcomes.map((o) => o.answered ?? null));
      expect(row.picks?.map((p) => (p === null ? null : JSON.parse(p)))).toEqual(
        row.outcomes.map((o) => o.picked ?? null),
      );
    };
    const read = () => database.db.select(columns).from(attempts);
    const rows = await read();
    expect(rows.some((row) => row.outcomes?.some((o) => o.picked))).toBe(true);
    for (const row of rows) check(row);

    // A code answer judged after submit rewrites the outcomes: the arrays follow.
    const graded = rows.find((row) => row.outcomes !== null && row.outcomes.length > 0);
    if (!graded?.outcomes) throw new Error('no graded attempt generated');
    const regraded = graded.outcomes.map((o, index) =>
      index === 0 ? { ...o, earned: o.max, correct: true } : o,
    );
    await database.db
      .update(attempts)
      .set({ outcomes: regraded })
      .where(eq(attempts.id, graded.id));
    const [after] = await database.db
      .select(columns)
      .from(attempts)
      .where(eq(attempts.id, graded.id));
    if (!after) throw new Error('attempt gone');
    check(after);
    expect(after.marks?.[0]).toBe(regraded[0]?.max);
  });
});
