import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/database.ts';
import { attemptAnswers, attempts } from './attempts.tables.ts';

/**
 * Aggregates over attempts for analytics, computed in the database: no attempt row is loaded
 * into the process. The statistics are finished from these sums by the analytics module (the
 * formulas are in analytics.spec.md). Callers decide who may see them.
 */

/** Which of a user's finished attempts at a quiz count: Moodle's item analysis uses the first. */
export const ATTEMPT_SELECTIONS = ['first', 'last', 'best', 'all'] as const;
export type AttemptSelection = (typeof ATTEMPT_SELECTIONS)[number];

/** Attempts at a quiz by state, all of them (not only the counted ones). */
export type QuizAttemptCounts = {
  started: number;
  participants: number;
  active: number;
  grading: number;
  finished: number;
  endedByStudent: number;
  endedByTimer: number;
  endedByFocusLimit: number;
};

/** The counted attempts' percentages (100 × score / max score): mean, median, central sums. */
export type QuizScoreAggregates = {
  n: number;
  mean: number | null;
  median: number | null;
  min: number | null;
  max: number | null;
  sum2: number | null;
  sum3: number | null;
  sum4: number | null;
  averageSeconds: number | null;
};

/** One question over the counted attempts that showed it; marks are in points. */
export type QuestionAggregates = {
  questionId: string;
  /** Counted attempts that showed the question. */
  n: number;
  maxMark: number | null;
  /** Mean and sample variance of mark / max mark (each attempt's own maximum). */
  meanFraction: number | null;
  varFraction: number | null;
  /** Means and sample variances of the mark and of the rest (the attempt's other marks). */
  meanMark: number | null;
  meanRest: number | null;
  varMark: number | null;
  varRest: number | null;
  /** Sample covariance of the mark with the rest. */
  covariance: number | null;
  /**
   * The largest covariance these marks and rests could have: both sorted and paired in order,
   * (Σ (x₍ₖ₎ − x̄)(r₍ₖ₎ − r̄)) / (n − 1).
   */
  covarianceMax: number | null;
};

export type QuizAggregates = {
  attempts: QuizAttemptCounts;
  scores: QuizScoreAggregates;
  /** Counted attempts per 10-point bucket of percentage (0–9; 100 % is in 9). */
  histogram: Array<{ bucket: number; count: number }>;
  questions: QuestionAggregates[];
  /** Counted attempts with a non-blank saved answer, per question. */
  answered: Array<{ questionId: string; count: number }>;
  /** Counted attempts that picked each option (`true`/`false` for true-false questions). */
  picks: Array<{ questionId: string; optionId: string; count: number }>;
};

const FINISHED = sql`status in ('graded', 'expired')`;
const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));
const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows;

/** A finished attempt `a` that counts, by the selection (the others of its user are `b`). */
function selected(selection: AttemptSelection, quizId: string): SQL {
  if (selection === 'all') return sql`true`;
  const percent = (alias: string) =>
    sql.raw(`coalesce(${alias}.score / nullif(${alias}.max_score, 0), 0)`);
  const better =
    selection === 'first'
      ? sql`b.number < a.number`
      : selection === 'last'
        ? sql`b.number > a.number`
        : sql`(${percent('b')} > ${percent('a')} or (${percent('b')} = ${percent('a')} and b.number < a.number))`;
  return sql`not exists (
    select 1 from ${attempts} b
    where b.quiz_id = ${quizId} and b.user_id = a.user_id and b.${FINISHED} and ${better})`;
}

/** One of a user's finished attempts, for the recent trend. */
export type RecentResult = {
  attemptId: string;
  quizId: string;
  finishedAt: Date;
  score: number;
  maxScore: number;
};

export function createAttemptStatistics(db: Database) {
  return {
    /** A user's finished attempts in aggregate. */
    async userSummary(userId: string) {
      const [row] = rowsOf<Record<string, unknown>>(
        await db.execute(sql`
          select count(*)::int as attempts, count(distinct quiz_id)::int as quizzes,
            avg(coalesce((100 * score / nullif(max_score, 0))::float8, 0)) as average_percentage
          from ${attempts} where user_id = ${userId} and ${FINISHED}`),
      );
      return {
        attempts: Number(row?.attempts ?? 0),
        quizzes: Number(row?.quizzes ?? 0),
        averagePercentage: num(row?.average_percentage),
      };
    },

    /** The quizzes a user has finished attempts at. */
    async finishedQuizIds(userId: string): Promise<string[]> {
      const rows = rowsOf<{ quiz_id: string }>(
        await db.execute(sql`
          select distinct quiz_id from ${attempts} where user_id = ${userId} and ${FINISHED}`),
      );
      return rows.map((row) => row.quiz_id);
    },

    /**
     * Per question, a user's outcomes over their finished attempts (at these quizzes only, when
     * `quizIds` is given).
     */
    async userQuestionRecords(userId: string, quizIds?: readonly string[]) {
      const only = quizIds
        ? sql`and a.quiz_id in (select jsonb_array_elements_text(${JSON.stringify(quizIds)}::jsonb))`
        : sql``;
      const rows = rowsOf<Record<string, unknown>>(
        await db.execute(sql`
          select o."questionId" as question_id, count(*)::int as seen,
            (count(*) filter (where o.correct))::int as correct,
            sum(o.earned) as earned, sum(o.max) as max
          from ${attempts} a cross join lateral jsonb_to_recordset(coalesce(a.outcomes, '[]'::jsonb))
            as o("questionId" text, earned float8, max float8, correct boolean)
          where a.user_id = ${userId} and a.${FINISHED} ${only}
          group by 1`),
      );
      return rows.map((row) => ({
        questionId: String(row.question_id),
        seen: Number(row.seen),
        correct: Number(row.correct),
        earned: Number(row.earned ?? 0),
        max: Number(row.max ?? 0),
      }));
    },

    /**
     * The local dates (YYYY-MM-DD in `timeZone`, an IANA name) since `since` on which the user
     * started or submitted an attempt.
     */
    async activeDays(userId: string, timeZone: string, since: Date): Promise<string[]> {
      const rows = rowsOf<{ day: string }>(
        await db.execute(sql`
          select distinct to_char(t at time zone ${timeZone}, 'YYYY-MM-DD') as day from (
            select started_at as t from ${attempts} where user_id = ${userId}
            union all
            select submitted_at from ${attempts} where user_id = ${userId} and submitted_at is not null
          ) moments where t >= ${since.toISOString()}::timestamptz`),
      );
      return rows.map((row) => row.day);
    },

    /** A user's latest finished attempts, newest first. */
    async recentResults(userId: string, limit: number): Promise<RecentResult[]> {
      const rows = rowsOf<Record<string, unknown>>(
        await db.execute(sql`
          select id, quiz_id, coalesce(submitted_at, started_at) as finished_at,
            coalesce(score, 0)::float8 as score, max_score::float8 as max_score
          from ${attempts} where user_id = ${userId} and ${FINISHED}
          order by coalesce(submitted_at, started_at) desc, id desc
          limit ${limit}`),
      );
      return rows.map((row) => ({
        attemptId: String(row.id),
        quizId: String(row.quiz_id),
        finishedAt: new Date(row.finished_at as string | Date),
        score: Number(row.score),
        maxScore: Number(row.max_score),
      }));
    },

    /** Every attempt by status, and how many started since each of `since`. */
    async totals(since: readonly Date[]) {
      const byStatus = rowsOf<{ status: string; count: number }>(
        await db.execute(sql`
          select status, count(*)::int as count from ${attempts} group by 1 order by 1`),
      );
      const started = await Promise.all(
        since.map(async (from) => {
          const [row] = rowsOf<{ count: number }>(
            await db.execute(sql`
              select count(*)::int as count from ${attempts}
              where started_at >= ${from.toISOString()}::timestamptz`),
          );
          return Number(row?.count ?? 0);
        }),
      );
      return {
        byStatus: Object.fromEntries(byStatus.map((row) => [row.status, Number(row.count)])),
        startedSince: started,
      };
    },

    /**
     * Everything the quiz report needs, in one statement (one snapshot). `choiceQuestionIds`
     * are the questions whose answers are option ids (or true/false), for pick rates.
     */
    async quizAggregates(input: {
      quizId: string;
      selection: AttemptSelection;
      choiceQuestionIds: readonly string[];
    }): Promise<QuizAggregates> {
      const { quizId } = input;
      const choice = JSON.stringify(input.choiceQuestionIds);
      const query = sql`
        with counted as not materialized (
          select a.id, a.score, a.max_score, a.earned, a.started_at, a.submitted_at,
            a.outcome_questions, a.outcome_marks, a.outcome_maxima, a.outcome_answered, a.outcome_picks
          from ${attempts} a
          where a.quiz_id = ${quizId} and a.${FINISHED} and ${selected(input.selection, quizId)}
        ),
        percentages as (
          select coalesce((100 * score / nullif(max_score, 0))::float8, 0) as pct,
            extract(epoch from submitted_at - started_at)::float8 as seconds
          from counted
        ),
        scores as (
          select count(*)::int as n, avg(pct) as mean, min(pct) as min, max(pct) as max,
            percentile_cont(0.5) within group (order by pct) as median,
            sum(power(pct - (select avg(pct) from percentages), 2)) as sum2,
            sum(power(pct - (select avg(pct) from percentages), 3)) as sum3,
            sum(power(pct - (select avg(pct) from percentages), 4)) as sum4,
            avg(seconds) as average_seconds
          from percentages
        ),
        histogram as (
          select least(greatest(floor(pct / 10), 0), 9)::int as bucket, count(*)::int as count
          from percentages group by 1
        ),
        -- One row per (attempt, question): its mark and the rest of that attempt's marks (the
        -- attempt's recorded total minus the mark: no second pass over its outcomes), read from
        -- the outcomes' array columns (no JSON parsed here). The picked options stay JSON text:
        -- hashed as text here, parsed only in the few distribution rows.
        items as (
          select o.question_id, o.mark, o.max_mark, c.earned - o.mark as rest, o.answered, o.picked
          from counted c cross join lateral unnest(c.outcome_questions, c.outcome_marks,
            c.outcome_maxima, c.outcome_answered, c.outcome_picks)
            as o(question_id, mark, max_mark, answered, picked)
        ),
        -- One pass that only counts: the joint distribution of (mark, rest, what was answered)
        -- per question. These take few distinct values, so everything else is computed from
        -- these few rows, weighted by their counts (two passes over them, for accuracy).
        joint as (
          select question_id, mark, max_mark, rest, answered, picked, count(*)::float8 as n
          from items group by 1, 2, 3, 4, 5, 6
        ),
        means as (
          select question_id, sum(n) as n, max(max_mark) as max_mark,
            sum(n * mark) / sum(n) as mean_mark,
            sum(n * rest) / sum(n) as mean_rest,
            sum(n * mark / nullif(max_mark, 0)) / sum(n) as mean_fraction
          from joint group by 1
        ),
        per_question as (
          select q.question_id, q.n::int as n, q.max_mark, q.mean_mark, q.mean_rest, q.mean_fraction,
            sum(j.n * (j.mark - q.mean_mark) * (j.mark - q.mean_mark)) / nullif(q.n - 1, 0) as var_mark,
            sum(j.n * (j.rest - q.mean_rest) * (j.rest - q.mean_rest)) / nullif(q.n - 1, 0) as var_rest,
            sum(j.n * (j.mark - q.mean_mark) * (j.rest - q.mean_rest)) / nullif(q.n - 1, 0) as covariance,
            sum(j.n * (j.mark / nullif(j.max_mark, 0) - q.mean_fraction)
              * (j.mark / nullif(j.max_mark, 0) - q.mean_fraction)) / nullif(q.n - 1, 0) as var_fraction
          from joint j join means q on q.question_id = j.question_id
          group by q.question_id, q.n, q.max_mark, q.mean_mark, q.mean_rest, q.mean_fraction
        ),
        -- The largest covariance: marks and rests both sorted, paired rank by rank. Marks take
        -- few values, so band j of equal marks v_j holds ranks (hi_j − n_j, hi_j]; F(k) is the
        -- sum of the k smallest rests, read off the rest distribution.
        mark_bands as (
          select question_id, mark as v, n,
            sum(n) over (partition by question_id order by mark rows unbounded preceding) as hi
          from (select question_id, mark, sum(n) as n from joint group by 1, 2) marks
        ),
        rest_bands as (
          select question_id, rest as v,
            sum(n) over w - n as lo,
            coalesce(sum(n * rest) over w - n * rest, 0) as below
          from (select question_id, rest, sum(n) as n from joint group by 1, 2) rests
          window w as (partition by question_id order by rest rows unbounded preceding)
        ),
        wanted as (
          select question_id, hi - n as k from mark_bands
          union select question_id, hi from mark_bands
        ),
        merged as (
          select question_id, k, 1 as kind, null::float8 as lo, null::float8 as v,
            null::float8 as below
          from wanted
          union all
          select question_id, lo, 0, lo, v, below from rest_bands
        ),
        numbered as (
          select *, count(lo) over (partition by question_id order by k, kind
            rows unbounded preceding) as band
          from merged
        ),
        smallest as (
          select question_id, k, kind,
            max(below) over b + (k - max(lo) over b) * max(v) over b as f
          from numbered window b as (partition by question_id, band)
        ),
        covariance_max as (
          select m.question_id,
            sum((m.v - q.mean_mark) * ((high.f - low.f) - m.n * q.mean_rest))
              / nullif(q.n - 1, 0) as covariance_max
          from mark_bands m
          join per_question q on q.question_id = m.question_id
          join smallest low on low.question_id = m.question_id and low.kind = 1 and low.k = m.hi - m.n
          join smallest high on high.question_id = m.question_id and high.kind = 1 and high.k = m.hi
          group by m.question_id, q.n
        ),
        -- Attempts submitted since outcomes record what was answered and picked (see
        -- QuestionOutcome) are read in the pass above; older ones (no outcome has the field:
        -- all are written at once) fall back to their saved answers, counted first, filtered
        -- after: the same answers repeat a lot. With no old attempts (none of the distribution's
        -- rows lacks the field) neither the attempts nor their answers are read again.
        legacy as (
          select aa.question_id, aa.answer, count(*)::int as n
          from ${attemptAnswers} aa
          where exists (select 1 from joint where answered is null) and aa.attempt_id in (
            select id from counted where outcome_answered[1] is null)
          group by 1, 2
        ),
        legacy_given as (
          select question_id, answer, n from legacy
          where answer not in ('null'::jsonb, '""'::jsonb, '[]'::jsonb)
            and coalesce(btrim(answer ->> 'source'), '-') <> ''
        ),
        given as (
          select question_id, n from legacy_given
          union all
          select question_id, sum(n)::int from joint where answered group by 1
        ),
        chosen as (
          select g.question_id, p.option_id, g.n
          from legacy_given g cross join lateral (
            select distinct value as option_id from jsonb_array_elements_text(
              case when jsonb_typeof(g.answer) = 'array' then g.answer
                else jsonb_build_array(g.answer) end)
          ) p
          union all
          select j.question_id, p.option_id, sum(j.n)::int
          from joint j cross join lateral jsonb_array_elements_text(j.picked::jsonb) as p(option_id)
          where j.answered and jsonb_typeof(j.picked::jsonb) = 'array'
          group by 1, 2
        ),
        picks as (
          select question_id, option_id, sum(n)::int as count from chosen
          where question_id in (select jsonb_array_elements_text(${choice}::jsonb))
          group by 1, 2
        ),
        counts as (
          select count(*)::int as started, count(distinct user_id)::int as participants,
            (count(*) filter (where status = 'active'))::int as active,
            (count(*) filter (where status = 'grading'))::int as grading,
            (count(*) filter (where ${FINISHED}))::int as finished,
            (count(*) filter (where ended_by = 'student'))::int as ended_by_student,
            (count(*) filter (where ended_by = 'timer'))::int as ended_by_timer,
            (count(*) filter (where ended_by = 'focus_limit'))::int as ended_by_focus_limit
          from ${attempts} where quiz_id = ${quizId}
        )
        select
          (select row_to_json(x) from counts x) as counts,
          (select row_to_json(x) from scores x) as scores,
          (select coalesce(json_agg(x), '[]') from histogram x) as histogram,
          (select coalesce(json_agg(x), '[]') from (
            select q.question_id, q.n, q.max_mark, q.mean_fraction, q.var_fraction, q.mean_mark,
              q.mean_rest, q.var_mark, q.var_rest, q.covariance, m.covariance_max
            from per_question q left join covariance_max m on m.question_id = q.question_id
          ) x) as questions,
          (select coalesce(json_agg(x), '[]') from (
            select question_id, sum(n)::int as count from given group by 1
          ) x) as answered,
          (select coalesce(json_agg(x), '[]') from picks x) as picks`;
      // One report is one large statement: compiling it with LLVM (PostgreSQL's JIT) costs more
      // than running it. PGlite has no JIT; the setting is accepted and changes nothing there.
      const row = await db.transaction(async (tx) => {
        await tx.execute(sql`set local jit = off`);
        return rowsOf<Record<string, unknown>>(await tx.execute(query))[0] ?? {};
      });
      type Raw = Record<string, unknown>;
      const counts = (row.counts ?? {}) as Raw;
      const scores = (row.scores ?? {}) as Raw;
      return {
        attempts: {
          started: Number(counts.started ?? 0),
          participants: Number(counts.participants ?? 0),
          active: Number(counts.active ?? 0),
          grading: Number(counts.grading ?? 0),
          finished: Number(counts.finished ?? 0),
          endedByStudent: Number(counts.ended_by_student ?? 0),
          endedByTimer: Number(counts.ended_by_timer ?? 0),
          endedByFocusLimit: Number(counts.ended_by_focus_limit ?? 0),
        },
        scores: {
          n: Number(scores.n ?? 0),
          mean: num(scores.mean),
          median: num(scores.median),
          min: num(scores.min),
          max: num(scores.max),
          sum2: num(scores.sum2),
          sum3: num(scores.sum3),
          sum4: num(scores.sum4),
          averageSeconds: num(scores.average_seconds),
        },
        histogram: (row.histogram as Raw[]).map((bin) => ({
          bucket: Number(bin.bucket),
          count: Number(bin.count),
        })),
        questions: (row.questions as Raw[]).map((q) => ({
          questionId: String(q.question_id),
          n: Number(q.n),
          maxMark: num(q.max_mark),
          meanFraction: num(q.mean_fraction),
          varFraction: num(q.var_fraction),
          meanMark: num(q.mean_mark),
          meanRest: num(q.mean_rest),
          varMark: num(q.var_mark),
          varRest: num(q.var_rest),
          covariance: num(q.covariance),
          covarianceMax: num(q.covariance_max),
        })),
        answered: (row.answered as Raw[]).map((a) => ({
          questionId: String(a.question_id),
          count: Number(a.count),
        })),
        picks: (row.picks as Raw[]).map((p) => ({
          questionId: String(p.question_id),
          optionId: String(p.option_id),
          count: Number(p.count),
        })),
      };
    },
  };
}

export type AttemptStatistics = ReturnType<typeof createAttemptStatistics>;
