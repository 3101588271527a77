import { z } from 'zod';
import { pageQuery } from '../../platform/http/pagination.ts';
import { LEVELS } from '../questions/questions.models.ts';
import { studentQuestion } from '../questions/questions.schemas.ts';

const questionRefs = z
  .array(
    z.strictObject({
      questionId: z.string().min(1).max(100),
      points: z.number().positive().max(1_000).optional(),
    }),
  )
  .min(1)
  .max(500);
const pool = z.strictObject({
  tags: z.array(z.string().trim().toLowerCase().min(1).max(50)).max(20).optional(),
  level: z.enum(LEVELS).optional(),
  language: z.string().max(50).optional(),
  count: z.number().int().min(1).max(500),
});

const settings = {
  description: z.string().max(20_000).optional(),
  durationMinutes: z
    .number()
    .positive()
    .max(7 * 24 * 60)
    .nullable()
    .optional()
    .describe('minutes, fractions allowed; absent = untimed'),
  opensAt: z.iso.datetime({ offset: true }).nullable().optional(),
  closesAt: z.iso.datetime({ offset: true }).nullable().optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
  shuffleQuestions: z.boolean().optional(),
  shuffleOptions: z.boolean().optional(),
  passMark: z.number().min(0).max(100).nullable().optional().describe('percentage'),
  negativeMarking: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .optional()
    .describe('fraction of a question’s points lost for a wrong answer'),
  reviewPolicy: z.enum(['never', 'after_submit', 'after_close']).optional(),
  maxFocusLosses: z
    .number()
    .int()
    .min(0)
    .max(1_000)
    .nullable()
    .optional()
    .describe('tab switches / window blurs tolerated; one more triggers focusLossAction'),
  focusLossAction: z
    .enum(['flag', 'submit'])
    .optional()
    .describe('flag the attempt for staff (default) or submit it'),
  hideLeaderboard: z
    .boolean()
    .optional()
    .describe(
      'hide the quiz’s leaderboard from students (staff still see it; students get 403 LEADERBOARD_HIDDEN); default false',
    ),
};

export const createQuizBody = z.strictObject({
  title: z.string().trim().min(1).max(300),
  ...settings,
  questions: questionRefs.optional(),
  pool: pool.optional(),
});

export const patchQuizBody = z.strictObject({
  title: z.string().trim().min(1).max(300).optional(),
  status: z.literal('archived').optional().describe('archive the quiz (publish has its own route)'),
  ...settings,
  questions: questionRefs.optional(),
  pool: pool.optional(),
});

export type CreateQuizBody = z.infer<typeof createQuizBody>;
export type PatchQuizBody = z.infer<typeof patchQuizBody>;

export const quizSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    description: z.string(),
    status: z.enum(['draft', 'published', 'archived']),
    durationMinutes: z.number().nullable(),
    opensAt: z.iso.datetime().nullable(),
    closesAt: z.iso.datetime().nullable(),
    maxAttempts: z.number().int(),
    shuffleQuestions: z.boolean(),
    shuffleOptions: z.boolean(),
    passMark: z.number().nullable(),
    negativeMarking: z.number().nullable(),
    reviewPolicy: z.enum(['never', 'after_submit', 'after_close']),
    maxFocusLosses: z.number().int().nullable(),
    focusLossAction: z.enum(['flag', 'submit']),
    hideLeaderboard: z.boolean().describe('the leaderboard is shown to staff only'),
    hasAttempts: z.boolean().describe('once true, the questions and pool cannot change'),
    questions: z
      .array(z.object({ questionId: z.string(), points: z.number().optional() }))
      .optional(),
    pool: pool.optional(),
    paper: z
      .array(studentQuestion)
      .optional()
      .describe(
        'students, untimed quizzes with a fixed list: the questions to answer with POST /quizzes/{id}/submit',
      ),
    questionCount: z.number().int(),
    createdBy: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    publishedAt: z.iso.datetime().nullable(),
  })
  .meta({
    id: 'Quiz',
    description: 'Staff see the question list or pool; students see only the count.',
  });

export const quizListQuery = z.strictObject({
  status: z.enum(['draft', 'published', 'archived']).optional(),
  ...pageQuery,
});
export const quizIdParams = z.strictObject({ id: z.string().min(1).max(100) });
