import { z } from 'zod';
import { pageQuery } from '../../platform/http/pagination.ts';
import { STATUSES, TEST_VERDICTS, VERDICTS } from './submissions.models.ts';

export const MAX_SOURCE_BYTES = 64 * 1024;

export const createSubmissionBody = z.strictObject({
  challengeId: z.string().min(1).max(100),
  language: z.string().min(1).max(40).describe('one of the challenge’s languages'),
  source: z
    .string()
    .min(1)
    .refine(
      (value) => Buffer.byteLength(value, 'utf8') <= MAX_SOURCE_BYTES,
      `must be at most ${MAX_SOURCE_BYTES} bytes`,
    ),
  attemptId: z
    .string()
    .max(100)
    .optional()
    .describe(
      'refused (400): a quiz’s code answer is saved in its attempt and becomes a submission when the attempt is submitted',
    ),
});

export const submissionAccepted = z.object({
  id: z.string(),
  status: z.enum(STATUSES).describe('`queued`: follow it with GET /submissions/{id} or its events'),
});

const testResult = z.object({
  index: z.number().int().describe('1-based, in judging order'),
  hidden: z.boolean(),
  verdict: z.enum(TEST_VERDICTS),
  timeMs: z.number().describe('CPU time'),
  memoryKb: z.number(),
  stdout: z
    .string()
    .optional()
    .describe('public tests only: what the program printed (first 4 KiB)'),
  difference: z
    .object({
      line: z.number().int(),
      expected: z.string().nullable(),
      actual: z.string().nullable(),
    })
    .optional()
    .describe('public tests only: the first line where a wrong answer differs'),
});

export const submissionView = z.object({
  id: z.string(),
  challengeId: z.string(),
  userId: z.string(),
  language: z.string(),
  status: z.enum(STATUSES),
  verdict: z
    .enum(VERDICTS)
    .nullable()
    .describe('the first failing test’s, in order; null until judged'),
  score: z.number().nullable().describe('points × the weighted share of passed tests'),
  maxScore: z.number(),
  tests: z.array(testResult).describe('hidden tests: verdict and measures only'),
  compileOutput: z.string().optional(),
  feedback: z
    .object({
      source: z.enum(['llm', 'heuristic']),
      summary: z.string(),
      suggestions: z.array(z.string()),
    })
    .optional()
    .describe(
      'on the judged program: from LLM_BASE_URL’s model when set, else heuristic; never from hidden tests',
    ),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const submissionIdParams = z.strictObject({ id: z.string().min(1).max(100) });

export const submissionsQuery = z.strictObject({
  challengeId: z.string().max(100).optional(),
  mine: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .describe('staff: only their own submissions (students always see only theirs)'),
  ...pageQuery,
});
