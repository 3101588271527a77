import { z } from 'zod';
import { ATTEMPT_SELECTIONS } from '../attempts/attempts.statistics.ts';
import { QUESTION_TYPES } from '../questions/questions.models.ts';
import { canonicalTimeZone } from './analytics.models.ts';

const count = z.number().int().min(0);
const maybe = (description: string) => z.number().nullable().describe(description);

export const idParams = z.strictObject({ id: z.string().min(1).max(100) });

export const quizReportQuery = z.strictObject({
  attempts: z
    .enum(ATTEMPT_SELECTIONS)
    .default('first')
    .describe(
      'Which finished attempts count: each user’s first (the default, as Moodle’s item analysis), last or best, or all of them (each attempt as if by a different student).',
    ),
  format: z
    .enum(['json', 'csv'])
    .default('json')
    .describe(
      '`csv`: the same report as a text/csv download (summary, questions, options, histogram).',
    ),
});

const option = z.object({
  id: z.string().describe('the option id; `true` / `false` for true-false questions'),
  text: z.string(),
  correct: z.boolean().describe('worth marks when picked (correct, or a positive weight)'),
  picks: count.describe('counted attempts that picked it'),
  rate: maybe('picks ÷ counted attempts that showed the question (0–1)'),
});

const questionReport = z.object({
  questionId: z.string(),
  position: z.number().int().nullable().describe('its place in the quiz (null for a pool)'),
  name: z.string().nullable(),
  type: z.enum(QUESTION_TYPES).nullable(),
  prompt: z.string().nullable(),
  tags: z.array(z.string()),
  maxMark: maybe('the most a counted attempt could earn on it'),
  attempts: count.describe('counted attempts that showed the question'),
  answered: count.describe('of those, how many saved a non-blank answer'),
  facilityIndex: maybe('100 × mean mark ÷ max mark'),
  sd: maybe('100 × sample standard deviation (n − 1) of mark ÷ max mark'),
  discriminationIndex: maybe(
    '100 × the correlation of the question’s mark with the rest of the attempt’s marks; null below 2 attempts or without spread',
  ),
  discriminativeEfficiency: maybe(
    '100 × that covariance ÷ the largest covariance the same marks could have (both sorted and paired)',
  ),
  options: z
    .array(option)
    .nullable()
    .describe('pick rates, for single choice, multiple choice and true-false questions'),
});

export const quizReport = z.object({
  quizId: z.string(),
  title: z.string(),
  attemptsCounted: z.enum(ATTEMPT_SELECTIONS),
  participants: count.describe('users who started at least one attempt'),
  attempts: z.object({
    started: count,
    inProgress: count,
    grading: count.describe('submitted, code answers still being judged'),
    finished: count.describe('graded or expired'),
    submittedByStudent: count,
    closedByTimer: count,
    closedByFocusLimit: count,
    counted: count.describe('finished attempts the statistics use (see `attemptsCounted`)'),
  }),
  completionRate: maybe('attempts the student submitted ÷ attempts started (0–1)'),
  averageSeconds: maybe('mean time from start to submission of the counted attempts'),
  score: z
    .object({
      mean: z.number().nullable(),
      median: z.number().nullable(),
      sd: maybe('sample standard deviation (n − 1); null below 2 attempts'),
      skewness: maybe('Moodle’s k3 / k2^(3/2); null below 3 attempts or without spread'),
      kurtosis: maybe('Moodle’s k4 / k2² (0 for a normal distribution); null below 4 attempts'),
      min: z.number().nullable(),
      max: z.number().nullable(),
    })
    .describe('of the counted attempts’ scores, as percentages of their maximum'),
  histogram: z
    .array(z.object({ from: z.number(), to: z.number(), count }))
    .describe('ten bins of 10 percentage points; the last one includes 100'),
  questions: z.array(questionReport),
});
export type QuizReport = z.infer<typeof quizReport>;

export const userAnalyticsQuery = z.strictObject({
  tz: z
    .string()
    .max(64)
    .default('UTC')
    .transform((value, context) => {
      const zone = canonicalTimeZone(value);
      if (zone) return zone;
      context.addIssue({
        code: 'custom',
        message: 'must be an IANA time zone name, such as Europe/Paris',
      });
      return z.NEVER;
    })
    .describe('IANA time zone whose calendar days the streak counts (default UTC)'),
  recent: z.coerce
    .number()
    .int()
    .min(2)
    .max(50)
    .default(10)
    .describe('how many latest results the trend uses'),
});

export const userAnalytics = z.object({
  user: z.object({
    id: z.string(),
    name: z.string(),
    role: z.enum(['admin', 'instructor', 'student']),
  }),
  timeZone: z.string().describe('the canonical name of the time zone used'),
  quizzesTaken: count.describe('quizzes with at least one finished attempt'),
  attempts: count.describe('finished attempts'),
  averageScore: maybe('mean percentage over finished attempts'),
  accuracyByTag: z
    .array(
      z.object({
        tag: z.string(),
        questions: count.describe('answers to questions with this tag (one per attempt)'),
        correct: count,
        accuracy: z.number().describe('correct ÷ questions (0–1)'),
        scoreRate: maybe('100 × marks earned ÷ marks possible (partial credit counts)'),
      }),
    )
    .describe(
      'from finished attempts; for the user themselves only attempts whose quiz lets them review it, as their results do',
    ),
  streak: count.describe(
    'consecutive days with activity (an attempt started or submitted, code submitted) up to today, or up to yesterday while today has none yet',
  ),
  longestStreak: count,
  lastActiveDay: z.string().nullable().describe('YYYY-MM-DD in `timeZone`'),
  activeDays: count.describe('days with activity in the last ten years'),
  recentTrend: z.object({
    results: z
      .array(
        z.object({
          attemptId: z.string(),
          quizId: z.string(),
          quizTitle: z.string().nullable(),
          finishedAt: z.string(),
          percentage: z.number(),
        }),
      )
      .describe('latest finished attempts, oldest first'),
    slope: maybe('least-squares slope of the percentages, in points per attempt'),
    direction: z.enum(['improving', 'declining', 'steady']).nullable(),
  }),
  challenges: z.object({
    submissions: count.describe('code submitted to challenges (not quiz answers)'),
    tried: count,
    solved: count.describe('challenges with an accepted submission'),
  }),
});

export const overview = z.object({
  users: z.object({
    total: count.describe('live accounts'),
    byRole: z.object({ admin: count, instructor: count, student: count }),
    activeLast7Days: count.describe('users who signed in or used a session in the last 7 days'),
    activeLast30Days: count,
  }),
  quizzes: z.object({
    total: count,
    byStatus: z.object({ draft: count, published: count, archived: count }),
  }),
  questions: z.object({ total: count.describe('live questions in the bank') }),
  attempts: z.object({
    total: count,
    byStatus: z.record(z.string(), count),
    startedLast7Days: count,
    startedLast30Days: count,
  }),
  submissions: z.object({
    total: count,
    byVerdict: z.record(z.string(), count).describe('verdicts, plus queued/running'),
  }),
  queue: z.object({
    backlog: count.describe('jobs waiting or running'),
    byQueue: z.array(z.object({ queue: z.string(), pending: count, running: count })),
  }),
  generatedAt: z.string(),
});
