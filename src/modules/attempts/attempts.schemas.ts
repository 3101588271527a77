import { z } from 'zod';
import { pageQuery } from '../../platform/http/pagination.ts';
import { studentQuestion } from '../questions/questions.schemas.ts';
import { ATTEMPT_STATUSES } from './attempts.tables.ts';

/**
 * What PostgreSQL cannot store in text or JSON is refused here, as bad input, with the field's
 * path: NUL. (Half a surrogate pair is refused for every body, `well-formed-text.ts`.)
 */
const storable = (schema: z.ZodString) =>
  schema.refine((text) => !text.includes('\u0000'), 'must not contain NUL (\\u0000) characters');

/** Refused here and for every body: said once in the description, where clients read it. */
const TEXT_RULE = 'Text holding NUL (\\u0000) or a lone UTF-16 surrogate is refused (400).';

export const answerValue = z
  .union([
    storable(z.string().max(1_000)).describe('single_choice: an option id; short_answer: the text'),
    z
      .array(storable(z.string().max(100)))
      .max(100)
      .describe('multiple_choice: option ids'),
    z.boolean().describe('true_false'),
    z.number().describe('numeric'),
    z
      .strictObject({
        language: storable(z.string().min(1).max(50)),
        source: storable(z.string().max(70_000)),
      })
      .describe('code (source at most 64 KiB)'),
    z.null().describe('clears the answer'),
  ])
  .describe(TEXT_RULE)
  .meta({ id: 'Answer' });

const endedBy = z.enum(['student', 'timer', 'focus_limit']).nullable();

export const attemptSchema = z
  .object({
    id: z.string(),
    quizId: z.string(),
    number: z.number().int().describe('1 for the first attempt at this quiz'),
    status: z.enum(ATTEMPT_STATUSES),
    startedAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().nullable().describe('null: untimed and no closing time'),
    remainingSeconds: z.number().int().nullable(),
    submittedAt: z.iso.datetime().nullable(),
    endedBy: endedBy.describe('who ended it: the student, the timer, or the focus-loss limit'),
    questions: z.array(studentQuestion).describe('in this attempt’s order, options too; no keys'),
    answers: z.record(z.string(), z.unknown()).describe('saved answers by question id'),
    // Staff only:
    userId: z.string().optional(),
    score: z.number().nullable().optional(),
    maxScore: z.number().optional(),
    integrity: z
      .object({
        focusLosses: z.number().int(),
        eventCounts: z.record(z.string(), z.number()),
        flagged: z.boolean(),
        flaggedReason: z.string().nullable(),
        recentEvents: z.array(
          z.object({
            id: z.string(),
            type: z.string(),
            at: z.iso.datetime(),
            receivedAt: z.iso.datetime(),
            detail: z.unknown(),
          }),
        ),
      })
      .optional()
      .describe('staff only: anti-cheat telemetry'),
  })
  .meta({ id: 'Attempt' });

export const resultSchema = z
  .object({
    attemptId: z.string(),
    quizId: z.string(),
    quizTitle: z.string(),
    status: z.enum(ATTEMPT_STATUSES),
    score: z.number(),
    maxScore: z.number(),
    percentage: z.number(),
    passed: z.boolean().nullable().describe('null without a pass mark or while grading'),
    submittedAt: z.iso.datetime().nullable(),
    endedBy,
    reviewAvailable: z
      .boolean()
      .describe('whether the quiz’s review policy shows marks, keys and explanations yet'),
    questions: z.array(
      z.object({
        questionId: z.string(),
        max: z.number(),
        yourAnswer: z.unknown(),
        earned: z.number().optional(),
        correct: z.boolean().optional(),
        pending: z.boolean().optional().describe('a code answer still being judged'),
        submissionId: z
          .string()
          .optional()
          .describe('a code answer’s submission: its per-test results at GET /submissions/{id}'),
        note: z.string().optional().describe('why a code answer scored 0 without being judged'),
        correctAnswer: z.unknown().optional(),
        tolerance: z.number().optional(),
        explanation: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'AttemptResult' });

export const resultSummarySchema = resultSchema
  .omit({ questions: true })
  .meta({ id: 'ResultSummary' });

export const attemptSummarySchema = z
  .object({
    id: z.string(),
    quizId: z.string(),
    userId: z.string(),
    number: z.number().int(),
    status: z.enum(ATTEMPT_STATUSES),
    startedAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().nullable(),
    submittedAt: z.iso.datetime().nullable(),
    endedBy,
    score: z.number().nullable(),
    maxScore: z.number(),
    focusLosses: z.number().int(),
    flagged: z.boolean(),
  })
  .meta({ id: 'AttemptSummary' });

export const saveAnswerBody = z.strictObject({
  questionId: z.string().min(1).max(100),
  answer: answerValue,
});

export const eventBody = z.strictObject({
  type: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be a lower-case name like tab_hidden')
    .describe('tab_hidden, window_blur, copy, paste, fullscreen_exit, devtools_open, …'),
  at: z.iso.datetime({ offset: true }).describe('when it happened, by the client’s clock'),
  detail: z
    .record(z.string(), z.union([z.string().max(500), z.number(), z.boolean(), z.null()]))
    .refine((value) => Object.keys(value).length <= 20, 'at most 20 fields')
    .optional(),
});

export const oneShotBody = z.strictObject({
  answers: z.record(z.string().max(100), answerValue).describe('by question id'),
});

export const attemptIdParams = z.strictObject({ id: z.string().min(1).max(100) });
export const resultParams = z.strictObject({ attemptId: z.string().min(1).max(100) });
export const startParams = z.strictObject({ quizId: z.string().min(1).max(100) });
export const attemptListQuery = z.strictObject({
  quizId: z.string().min(1).max(100),
  ...pageQuery,
});
export const resultListQuery = z.strictObject({ ...pageQuery });
