import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../platform/http/access.ts';
import type { SubmissionsService } from '../submissions/submissions.service.ts';

const STAFF = ['admin', 'instructor'] as const;

const challengeStats = z.object({
  challengeId: z.string(),
  submissions: z.number().int(),
  judged: z.number().int().describe('completed or failed'),
  byVerdict: z.record(z.string(), z.number().int()).describe('verdicts, plus queued/running'),
  byLanguage: z.array(
    z.object({
      language: z.string(),
      submissions: z.number().int(),
      accepted: z.number().int(),
      acceptanceRate: z.number(),
    }),
  ),
  acceptanceRate: z.number().nullable().describe('accepted / judged submissions'),
  users: z.number().int().describe('who submitted at least once'),
  usersAccepted: z.number().int(),
  medianSecondsToFirstAccept: z
    .number()
    .nullable()
    .describe('per user, from their first submission to their first accepted one; the median'),
});

/** Analytics; the statistics themselves are computed by the module that owns the data. */
export function analyticsRoutes(deps: { submissions: SubmissionsService }): FastifyPluginAsyncZod {
  const tags = ['analytics'];
  return async (app) => {
    app.get(
      '/analytics/challenges/:id',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'A challenge’s submissions by verdict and language, acceptance, time to accept',
          description: 'The challenge’s author or an admin; computed in the database.',
          params: z.strictObject({ id: z.string().min(1).max(100) }),
          response: { 200: challengeStats },
        },
      },
      async (request) => deps.submissions.challengeStats(principalOf(request), request.params.id),
    );
  };
}
