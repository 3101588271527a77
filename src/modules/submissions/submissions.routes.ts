import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../../platform/http/access.ts';
import { pageOf } from '../../platform/http/pagination.ts';
import {
  createSubmissionBody,
  submissionAccepted,
  submissionIdParams,
  submissionsQuery,
  submissionView,
} from './submissions.schemas.ts';
import type { SubmissionsService } from './submissions.service.ts';

export function submissionsRoutes(deps: {
  submissions: SubmissionsService;
  submissionsPerMinute: number;
}): FastifyPluginAsyncZod {
  const tags = ['submissions'];
  return async (app) => {
    app.post(
      '/submissions',
      {
        config: {
          access: 'authenticated',
          rateLimit: { max: deps.submissionsPerMinute, timeWindow: 60_000 },
        },
        schema: {
          tags,
          summary: 'Submit a program to a challenge; it is judged in the background',
          body: createSubmissionBody,
          response: { 202: submissionAccepted },
        },
      },
      async (request, reply) =>
        reply.status(202).send(await deps.submissions.create(principalOf(request), request.body)),
    );

    app.get(
      '/submissions',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Submissions, newest first (students: their own)',
          querystring: submissionsQuery,
          response: { 200: pageOf(submissionView) },
        },
      },
      async (request) => {
        const { challengeId, mine, limit, cursor } = request.query;
        return deps.submissions.list(principalOf(request), {
          limit,
          ...(challengeId ? { challengeId } : {}),
          ...(mine === undefined ? {} : { mine }),
          ...(cursor ? { cursor } : {}),
        });
      },
    );

    app.get(
      '/submissions/:id',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'One submission with its verdict, score and per-test results',
          description:
            'Owner, admin, or the instructor of the challenge. Hidden tests show their verdict, time and memory only.',
          params: submissionIdParams,
          response: { 200: submissionView },
        },
      },
      async (request) => deps.submissions.get(principalOf(request), request.params.id),
    );
  };
}
