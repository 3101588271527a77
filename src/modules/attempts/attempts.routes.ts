import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../platform/http/access.ts';
import { fastSerializerCompiler } from '../../platform/http/fast-serializer.ts';
import { pageOf } from '../../platform/http/pagination.ts';
import {
  attemptIdParams,
  attemptListQuery,
  attemptSchema,
  attemptSummarySchema,
  eventBody,
  oneShotBody,
  resultListQuery,
  resultParams,
  resultSchema,
  resultSummarySchema,
  saveAnswerBody,
  startParams,
} from './attempts.schemas.ts';
import type { AttemptsService } from './attempts.service.ts';

const STAFF = ['admin', 'instructor'] as const;

export function attemptsRoutes(deps: { attempts: AttemptsService }): FastifyPluginAsyncZod {
  const tags = ['attempts'];
  return async (app) => {
    app.post(
      '/attempts/quizzes/:quizId/start',
      {
        config: { access: 'authenticated' },
        // Exam day: thousands at once.
        serializerCompiler: fastSerializerCompiler,
        schema: {
          tags,
          summary: 'Start an attempt, or resume the active one',
          description:
            '201 with a new attempt; 200 with the active one if there is one. The question and option order is drawn here (CSPRNG) and kept with the attempt. 403 QUIZ_NOT_OPEN outside the window, 409 ATTEMPTS_EXHAUSTED when maxAttempts are used.',
          params: startParams,
          response: { 200: attemptSchema, 201: attemptSchema },
        },
      },
      async (request, reply) => {
        const { attempt, created } = await deps.attempts.start(
          principalOf(request),
          request.params.quizId,
        );
        return reply.status(created ? 201 : 200).send(attempt);
      },
    );

    app.get(
      '/attempts',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Attempts at one of your quizzes, newest first',
          querystring: attemptListQuery,
          response: { 200: pageOf(attemptSummarySchema) },
        },
      },
      async (request) => {
        const { quizId, limit, cursor } = request.query;
        return deps.attempts.listForQuiz(principalOf(request), quizId, {
          limit,
          ...(cursor ? { cursor } : {}),
        });
      },
    );

    app.get(
      '/attempts/:id',
      {
        config: { access: 'authenticated' },
        serializerCompiler: fastSerializerCompiler,
        schema: {
          tags,
          summary: 'The attempt (its owner, or staff of its quiz with the integrity record)',
          params: attemptIdParams,
          response: { 200: attemptSchema },
        },
      },
      async (request) => deps.attempts.get(principalOf(request), request.params.id),
    );

    app.post(
      '/attempts/:id/answers',
      {
        config: { access: 'authenticated' },
        serializerCompiler: fastSerializerCompiler,
        schema: {
          tags,
          summary: 'Autosave one answer (last write wins)',
          description:
            '409 ATTEMPT_EXPIRED after expiresAt plus the grace (the attempt is then submitted), 409 ATTEMPT_SUBMITTED after submit, 422 QUESTION_NOT_IN_ATTEMPT for a question the attempt does not show.',
          params: attemptIdParams,
          body: saveAnswerBody,
          response: { 200: z.object({ questionId: z.string(), savedAt: z.iso.datetime() }) },
        },
      },
      async (request) =>
        deps.attempts.saveAnswer(principalOf(request), request.params.id, request.body),
    );

    app.post(
      '/attempts/:id/submit',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Submit and score (idempotent: a repeat returns the same result)',
          params: attemptIdParams,
          response: { 200: resultSchema },
        },
      },
      async (request) => deps.attempts.submit(principalOf(request), request.params.id),
    );

    app.post(
      '/attempts/:id/events',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Anti-cheat telemetry',
          description:
            'Counted per type on the attempt and shown to staff. Past the quiz’s maxFocusLosses (tab_hidden and window_blur count) the attempt is flagged, or submitted when focusLossAction is submit.',
          params: attemptIdParams,
          body: eventBody,
          response: {
            202: z.object({
              status: z.string(),
              focusLosses: z.number().int(),
              flagged: z.boolean(),
            }),
          },
        },
      },
      async (request, reply) => {
        const outcome = await deps.attempts.recordEvent(
          principalOf(request),
          request.params.id,
          request.body,
        );
        return reply.status(202).send(outcome);
      },
    );

    app.get(
      '/results/attempts/:attemptId',
      {
        config: { access: 'authenticated' },
        schema: {
          tags: ['results'],
          summary: 'The result of a finished attempt, as the review policy allows',
          params: resultParams,
          response: { 200: resultSchema },
        },
      },
      async (request) => deps.attempts.result(principalOf(request), request.params.attemptId),
    );

    app.get(
      '/results/my-results',
      {
        config: { access: 'authenticated' },
        schema: {
          tags: ['results'],
          summary: 'The caller’s finished attempts, newest first',
          querystring: resultListQuery,
          response: { 200: pageOf(resultSummarySchema) },
        },
      },
      async (request) => {
        const { limit, cursor } = request.query;
        return deps.attempts.myResults(principalOf(request), {
          limit,
          ...(cursor ? { cursor } : {}),
        });
      },
    );

    app.post(
      '/quizzes/:id/submit',
      {
        config: { access: 'authenticated' },
        schema: {
          tags: ['quizzes'],
          summary: 'One-shot submit of an untimed quiz with a fixed question list',
          description:
            'Starts an attempt, saves every answer and submits it. The questions come with GET /quizzes/{id} (`paper`). Timed and pool quizzes answer 409 QUIZ_NEEDS_ATTEMPT.',
          params: attemptIdParams,
          body: oneShotBody,
          response: { 200: resultSchema.extend({ details: resultSchema.shape.questions }) },
        },
      },
      async (request) => {
        const result = await deps.attempts.submitQuiz(
          principalOf(request),
          request.params.id,
          request.body.answers,
        );
        return { ...result, details: result.questions };
      },
    );
  };
}
