import { z } from 'zod';
import { pageQuery } from '../../platform/http/pagination.ts';
import { LEVELS, QUESTION_TYPES } from './questions.models.ts';

const weight = z
  .number()
  .min(-1)
  .max(1)
  .describe('fraction of the points this option is worth when picked, −1 to 1');
const optionInput = z.strictObject({
  text: z.string().trim().min(1).max(2_000),
  correct: z.boolean().optional().describe('answer key'),
  weight: weight.optional().describe('answer key; instead of correct'),
});
const tags = z.array(z.string().trim().toLowerCase().min(1).max(50)).max(20).default([]);

const common = {
  name: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('a short title, as Moodle questions have'),
  prompt: z.string().trim().min(1).max(20_000).describe('markdown'),
  explanation: z.string().trim().max(20_000).optional(),
  points: z.number().positive().max(1_000).default(1),
  tags,
  language: z.string().trim().min(1).max(50).optional(),
  level: z.enum(LEVELS).optional(),
};

/** One schema per type; unknown fields are refused. The answer key rules are checked in the service. */
export const questionInput = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('single_choice'),
    ...common,
    options: z.array(optionInput).min(2).max(20),
  }),
  z.strictObject({
    type: z.literal('multiple_choice'),
    ...common,
    options: z.array(optionInput).min(2).max(20),
  }),
  z.strictObject({
    type: z.literal('true_false'),
    ...common,
    correct: z.boolean().describe('answer key'),
  }),
  z.strictObject({
    type: z.literal('short_answer'),
    ...common,
    accepted: z
      .array(
        z.union([
          z.string().trim().min(1).max(500),
          z.strictObject({ text: z.string().trim().min(1).max(500), weight: weight.optional() }),
        ]),
      )
      .min(1)
      .max(50)
      .describe('answer key'),
    caseSensitive: z.boolean().default(false),
  }),
  z.strictObject({
    type: z.literal('numeric'),
    ...common,
    correct: z.number().describe('answer key'),
    tolerance: z.number().min(0, 'must be 0 or more').default(0).describe('answer key'),
  }),
  z.strictObject({
    type: z.literal('code'),
    ...common,
    challengeId: z
      .string()
      .min(1)
      .max(100)
      .describe('a live challenge (POST /api/v1/challenges); an unknown id is a 400'),
  }),
]);

export type QuestionInput = z.infer<typeof questionInput>;

const staffOption = z.object({
  id: z.string(),
  text: z.string(),
  correct: z.boolean().optional(),
  weight: z.number().optional(),
});

export const staffQuestion = z
  .object({
    id: z.string(),
    type: z.enum(QUESTION_TYPES),
    name: z.string().nullable(),
    prompt: z.string(),
    explanation: z.string().nullable(),
    points: z.number(),
    tags: z.array(z.string()),
    language: z.string().nullable(),
    level: z.enum(LEVELS).nullable(),
    options: z.array(staffOption).optional(),
    correct: z.union([z.boolean(), z.number()]).optional(),
    tolerance: z.number().optional(),
    accepted: z.array(z.object({ text: z.string(), weight: z.number().optional() })).optional(),
    caseSensitive: z.boolean().optional(),
    challengeId: z.string().optional(),
    createdBy: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'QuestionWithKey', description: 'A question as staff see it, answer keys included' });

/** What a student sees: no keys, no explanation. */
export const studentQuestion = z
  .object({
    id: z.string(),
    type: z.enum(QUESTION_TYPES),
    prompt: z.string(),
    options: z.array(z.object({ id: z.string(), text: z.string() })).optional(),
    points: z.number(),
    language: z.string().optional(),
    level: z.enum(LEVELS).optional(),
  })
  .meta({ id: 'Question' });

const csv = z
  .string()
  .max(500)
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim().toLowerCase())
      .filter(Boolean),
  );

export const questionListQuery = z.strictObject({
  type: z.enum(QUESTION_TYPES).optional(),
  tags: csv.optional().describe('comma-separated; a question must carry all of them'),
  language: z.string().max(50).optional(),
  level: z.enum(LEVELS).optional(),
  q: z.string().trim().min(1).max(100).optional().describe('matches name or prompt'),
  ...pageQuery,
});

export const randomQuery = z.strictObject({
  tags: csv.optional(),
  language: z.string().max(50).optional(),
  level: z.enum(LEVELS).optional(),
  count: z.coerce.number().int().min(1).max(50).default(10),
});

export const questionIdParams = z.strictObject({ id: z.string().min(1).max(100) });

// Spelled out here: formats/ imports these schemas, so importing its list back would be a cycle.
const QUESTION_FORMATS = ['gift', 'moodle-xml', 'json'] as const;

export const IMPORT_LIMIT_BYTES = 10 * 1024 * 1024;

export const importBody = z.strictObject({
  format: z.enum(QUESTION_FORMATS),
  content: z.string().min(1).max(IMPORT_LIMIT_BYTES).describe('the document as text'),
});

export const importResult = z.object({
  imported: z.number().int(),
  ids: z.array(z.string()).describe('in document order'),
  errors: z.array(
    z.object({
      line: z.number().int().optional().describe('1-based line where the question starts'),
      name: z.string().optional(),
      type: z.string().optional(),
      message: z.string(),
    }),
  ),
});

export const exportQuery = z.strictObject({
  format: z.enum(QUESTION_FORMATS),
  type: z.enum(QUESTION_TYPES).optional(),
  tags: csv.optional(),
  language: z.string().max(50).optional(),
  level: z.enum(LEVELS).optional(),
  q: z.string().trim().min(1).max(100).optional(),
});
