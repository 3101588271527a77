import { z } from 'zod';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../platform/http/pagination.ts';

export const boardQuery = z.strictObject({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(DEFAULT_PAGE_SIZE)
    .describe(`entries per page (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE})`),
  cursor: z.string().max(500).optional().describe('the nextCursor of the previous page'),
});

export const streamQuery = z.strictObject({
  limit: boardQuery.shape.limit,
  ticket: z
    .string()
    .max(200)
    .optional()
    .describe('a single-use ticket from POST /auth/sse-ticket (EventSource cannot send headers)'),
});

export const boardIdParams = z.strictObject({ id: z.string().min(1).max(100) });

const common = {
  rank: z
    .number()
    .int()
    .describe('competition rank: entries equal on every ordering key share it (1, 2, 2, 4)'),
  userId: z.string(),
  name: z.string().describe('the display name (never an email)'),
};

const quizEntry = z.object({
  ...common,
  score: z.number().describe('the best attempt’s score'),
  maxScore: z.number().describe('that attempt’s maximum'),
  percentage: z.number().describe('score / maxScore × 100, two decimals'),
  timeTakenMs: z
    .number()
    .int()
    .describe('that attempt’s time from start to submission (or its end, if earlier)'),
  completedAt: z.iso.datetime().describe('when that attempt was submitted'),
});

const challengeEntry = z.object({
  ...common,
  score: z.number().describe('the best judged submission’s score'),
  maxScore: z.number(),
  percentage: z.number(),
  fullScoreAt: z.iso
    .datetime()
    .nullable()
    .describe('when the user first submitted a program with full marks (null: not yet)'),
});

const globalEntry = z.object({
  ...common,
  score: z
    .number()
    .describe('the sum of the best percentage per quiz and per challenge (0–100 each)'),
  quizzes: z.number().int().describe('quizzes counted'),
  challenges: z.number().int().describe('challenges counted'),
});

const boardOf = <T extends z.ZodType>(entry: T, id: string, description: string) =>
  z
    .object({
      board: z.enum(['quiz', 'challenge', 'global']),
      items: z.array(entry).describe('best first'),
      me: entry
        .optional()
        .describe('the caller’s own entry, wherever it is on the board; absent when not on it'),
      total: z.number().int().describe('entries on the board'),
      nextCursor: z.string().nullable(),
    })
    .meta({ id, description });

export const quizBoard = boardOf(
  quizEntry,
  'QuizLeaderboard',
  'Best attempt score (desc), then shorter time taken (in tenths of a second).',
);
export const challengeBoard = boardOf(
  challengeEntry,
  'ChallengeLeaderboard',
  'Best score (desc), then the earlier first full score.',
);
export const globalBoard = boardOf(
  globalEntry,
  'GlobalLeaderboard',
  'The sum of each user’s best percentage per quiz and per challenge (desc).',
);
