import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../../platform/http/access.ts';
import {
  challengeIdParams,
  reportAccepted,
  reportQuery,
  reportView,
} from './plagiarism.schemas.ts';
import type { PlagiarismService } from './plagiarism.service.ts';
import { K, WINDOW } from './plagiarism.similarity.ts';

const STAFF = ['admin', 'instructor'] as const;

const WHO =
  'The challenge’s author or an admin (403 to other instructors and students; 404 `CHALLENGE_NOT_FOUND` for an unknown or deleted challenge).';

export function plagiarismRoutes(deps: { plagiarism: PlagiarismService }): FastifyPluginAsyncZod {
  const tags = ['challenges'];
  return async (app) => {
    app.get(
      '/challenges/:id/plagiarism',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'The latest similarity report of a challenge’s submissions',
          description: `${WHO} Each user’s latest judged submission per language is compared with every other user’s in the same language: comments and whitespace are dropped and names and literals normalised, so renaming variables or reformatting does not hide a copy; ${K}-token fingerprints are winnowed (window ${WINDOW}, as MOSS does). Pairs come most similar first, with the matching regions as line ranges. Status \`none\` and no pairs until a report is asked for with POST.`,
          params: challengeIdParams,
          querystring: reportQuery,
          response: { 200: reportView },
        },
      },
      async (request) =>
        deps.plagiarism.report(principalOf(request), request.params.id, {
          minSimilarity: request.query.minSimilarity,
        }),
    );

    app.post(
      '/challenges/:id/plagiarism',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Recompute the similarity report in the background',
          description: `${WHO} Answers 202 at once; a worker of the \`plagiarism\` queue compares the submissions and replaces the report, which keeps showing the previous pairs meanwhile. Asking again while a recompute is queued or running starts no second one.`,
          params: challengeIdParams,
          response: { 202: reportAccepted },
        },
      },
      async (request, reply) =>
        reply
          .status(202)
          .send(await deps.plagiarism.request(principalOf(request), request.params.id)),
    );
  };
}
