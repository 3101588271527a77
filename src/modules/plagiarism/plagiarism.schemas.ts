import { z } from 'zod';
import { REPORT_THRESHOLD } from './plagiarism.report.ts';
import { REPORT_STATUSES } from './plagiarism.tables.ts';

export const challengeIdParams = z.strictObject({ id: z.string().min(1).max(100) });

export const reportQuery = z.strictObject({
  minSimilarity: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(REPORT_THRESHOLD)
    .describe(
      `Only pairs at least this similar. The report keeps pairs from ${REPORT_THRESHOLD} up, so lower values show no more.`,
    ),
});

const lines = z
  .tuple([z.number().int().min(1), z.number().int().min(1)])
  .describe('[first, last]: 1-based, inclusive');
const user = z.object({
  id: z.string(),
  name: z.string().nullable().describe('null when the account no longer exists'),
});

export const reportView = z.object({
  challengeId: z.string(),
  status: z
    .enum(['none', ...REPORT_STATUSES])
    .describe(
      '`none`: never computed. `queued`/`running`: a recompute is under way; the pairs are still the previous report’s. `failed`: the last recompute failed; the pairs are the report before it.',
    ),
  requestedAt: z.iso.datetime().nullable().describe('when the latest recompute was asked for'),
  computedAt: z.iso.datetime().nullable().describe('when the pairs shown were computed'),
  submissionsCompared: z
    .number()
    .int()
    .min(0)
    .describe(
      'submissions compared for the pairs shown: each user’s latest judged one per language',
    ),
  pairs: z
    .array(
      z.object({
        a: z.string().describe('submission id, the earlier of the two'),
        b: z.string().describe('submission id'),
        similarity: z
          .number()
          .min(0)
          .max(1)
          .describe(
            'share of the smaller program’s fingerprints found in the other (the larger of `aShare` and `bShare`): a copy padded with code of its own still scores high',
          ),
        aShare: z
          .number()
          .min(0)
          .max(1)
          .nullable()
          .describe(
            'share of `a`’s fingerprints found in `b` (null in reports computed before it was kept); with `bShare`, tells a short program found whole inside a long one from two programs alike throughout',
          ),
        bShare: z
          .number()
          .min(0)
          .max(1)
          .nullable()
          .describe('share of `b`’s fingerprints found in `a`'),
        language: z.string(),
        aUser: user,
        bUser: user,
        matches: z
          .array(z.object({ aLines: lines, bLines: lines }))
          .describe('matching regions: lines of `a` and the lines of `b` they match'),
      }),
    )
    .describe('most similar first'),
});

export const reportAccepted = z.object({
  challengeId: z.string(),
  status: z
    .enum(['queued', 'running'])
    .describe('`running` when a recompute asked for earlier is already under way'),
});
