import { z } from 'zod';
import { pageQuery } from '../../platform/http/pagination.ts';
import { CHECKERS } from '../submissions/submissions.checkers.ts';
import { ARCHIVE_LIMITS } from './challenges.archive.ts';
import { DIFFICULTIES, type HiddenSpec, type WeightSpec } from './challenges.models.ts';

const MiB = 1024 * 1024;

/** The packed size of a test archive, and of a JSON array of test cases (API.md's 20 MiB). */
export const UPLOAD_LIMIT_BYTES = 20 * MiB;
export const MAX_TESTS_PER_REQUEST = ARCHIVE_LIMITS.maxEntries;

const language = z.string().trim().min(1).max(50);
const weight = z
  .number()
  .min(0)
  .max(1_000)
  .describe('share of the points relative to the other tests’ weights (0: shown, not scored)');

/** Create and replace take the whole challenge; the sandbox checks are the service's. */
export const challengeInput = z
  .strictObject({
    title: z.string().trim().min(1).max(300),
    statement: z.string().trim().min(1).max(100_000).describe('markdown'),
    difficulty: z.enum(DIFFICULTIES).default('medium'),
    languages: z
      .array(language)
      .min(1)
      .max(30)
      .describe('ids from GET /api/v1/languages; only toolchains this server offers'),
    timeLimitMs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'CPU time per test; default the sandbox’s (SANDBOX_CPU_MS), at most SANDBOX_MAX_CPU_MS',
      ),
    memoryLimitMb: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('default the sandbox’s (SANDBOX_MEMORY_MB), at most SANDBOX_MAX_MEMORY_MB'),
    starterCode: z
      .record(language, z.string().max(64 * 1024))
      .default({})
      .describe('per language (one of `languages`): the code an editor starts from'),
    checker: z
      .enum(CHECKERS)
      .default('trim')
      .describe(
        'exact: byte for byte (line endings normalised); trim: trailing spaces and blank lines ignored; tokens: whitespace-separated tokens; float: tokens, numbers equal within floatTolerance (absolute or relative)',
      ),
    floatTolerance: z
      .number()
      .min(0)
      .optional()
      .describe('required with checker "float", else refused'),
    points: z.number().positive().max(10_000).default(100),
  })
  // No component id: its defaults make input and output differ, which a shared id cannot carry.
  .describe('A challenge as staff write it (create and replace)');

export type ChallengeInput = z.infer<typeof challengeInput>;

export const testCaseInput = z.strictObject({
  input: z.string().max(UPLOAD_LIMIT_BYTES).describe('standard input of the program'),
  expectedOutput: z.string().max(UPLOAD_LIMIT_BYTES),
  hidden: z.boolean().default(false).describe('hidden tests never reach a student'),
  weight: weight.default(1),
});

/** Nullish because a multipart upload has no JSON body; the route then reads the zip. */
export const testCasesBody = z
  .array(testCaseInput)
  .min(1)
  .max(MAX_TESTS_PER_REQUEST)
  .nullish()
  .describe(
    'A JSON array of test cases, or instead a multipart/form-data upload: field `file` a zip of top-level `N.in`/`N.out` pairs (at most 20 MiB packed, 200 MiB unpacked, 1,000 entries), optional fields `hidden` (`true`, `false` or test numbers such as `2,5`) and `weight` (one number for all, or `N:w` pairs such as `1:0,3:2`; unlisted tests weigh 1).',
  );

const testNumber = z.coerce.number().int().min(0).max(999_999);

/** `true`/`all`, `false`/`none`, or a comma list of test numbers. */
export const hiddenField = z
  .string()
  .trim()
  .max(10_000)
  .transform((value, context): HiddenSpec => {
    const lowered = value.toLowerCase();
    if (lowered === 'true' || lowered === 'all') return { kind: 'all' };
    if (lowered === '' || lowered === 'false' || lowered === 'none') return { kind: 'none' };
    const numbers: number[] = [];
    for (const item of value.split(',')) {
      const parsed = testNumber.safeParse(item.trim());
      if (!parsed.success) {
        context.addIssue({
          code: 'custom',
          message: `"${item.trim()}" is not a test number; use true, false or numbers like 2,5`,
        });
        return z.NEVER;
      }
      numbers.push(parsed.data);
    }
    return { kind: 'some', numbers };
  });

/** One weight for every test, or `N:w` pairs. */
export const weightField = z
  .string()
  .trim()
  .max(10_000)
  .transform((value, context): WeightSpec => {
    const single = weight.safeParse(Number(value));
    if (value !== '' && !value.includes(':') && single.success)
      return { kind: 'all', weight: single.data };
    const weights = new Map<number, number>();
    for (const item of value.split(',')) {
      const [number, given, extra] = item.split(':').map((part) => part.trim());
      const parsedNumber = testNumber.safeParse(number);
      const parsedWeight = weight.safeParse(Number(given));
      if (
        extra !== undefined ||
        given === undefined ||
        given === '' ||
        !parsedNumber.success ||
        !parsedWeight.success
      ) {
        context.addIssue({
          code: 'custom',
          message: `"${item.trim()}" is not N:weight (a weight from 0 to 1000); or give one number for all tests`,
        });
        return z.NEVER;
      }
      weights.set(parsedNumber.data, parsedWeight.data);
    }
    return { kind: 'some', weights };
  });

export const archiveFields = z.strictObject({
  hidden: hiddenField.default({ kind: 'none' }),
  weight: weightField.default({ kind: 'all', weight: 1 }),
});

const testCaseData = {
  id: z.string(),
  index: z.number().int().describe('1-based position in judging order (as in submission results)'),
  input: z.string().describe('the first 64 KiB, as UTF-8'),
  expectedOutput: z.string().describe('the first 64 KiB, as UTF-8'),
  inputBytes: z.number().int(),
  expectedOutputBytes: z.number().int(),
  truncated: z.boolean().describe('input or expectedOutput is longer than shown'),
};

export const example = z
  .object(testCaseData)
  .meta({ id: 'ChallengeExample', description: 'A public test case' });

export const staffTestCase = z
  .object({ ...testCaseData, hidden: z.boolean(), weight: z.number() })
  .meta({ id: 'ChallengeTestCase', description: 'A test case as staff see it (staff only)' });

const summaryFields = {
  id: z.string(),
  title: z.string(),
  difficulty: z.enum(DIFFICULTIES),
  languages: z.array(z.string()),
  timeLimitMs: z.number().int().describe('CPU time per test'),
  memoryLimitMb: z.number().int(),
  checker: z.enum(CHECKERS),
  floatTolerance: z.number().optional().describe('with checker "float"'),
  points: z.number(),
  testCaseCount: z.number().int().describe('public and hidden'),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
};

export const challengeSummary = z.object(summaryFields).meta({
  id: 'ChallengeSummary',
  description: 'A challenge as lists show it: no statement, starter code or test data',
});

export const challengeSchema = z
  .object({
    ...summaryFields,
    statement: z.string().describe('markdown'),
    starterCode: z.record(z.string(), z.string()),
    examples: z.array(example).describe('the public test cases, for everyone'),
    testCases: z
      .array(staffTestCase)
      .optional()
      .describe('every test case, hidden ones included: staff (admins and instructors) only'),
  })
  .meta({
    id: 'Challenge',
    description:
      'A coding challenge. Students get the public tests as `examples` and never `testCases`; no student-facing response carries a hidden test’s input or expected output.',
  });

export const addedTestCases = z.object({
  testCases: z.array(staffTestCase).describe('the tests this request added, in judging order'),
});

export const challengeListQuery = z.strictObject({
  difficulty: z.enum(DIFFICULTIES).optional(),
  language: z.string().max(50).optional().describe('challenges that accept this language'),
  ...pageQuery,
});

export const challengeIdParams = z.strictObject({ id: z.string().min(1).max(100) });
