import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../platform/http/access.ts';
import type { SubmissionsService } from '../submissions/submissions.service.ts';
import { quizReportCsv } from './analytics.csv.ts';
import {
  idParams,
  overview,
  quizReport,
  quizReportQuery,
  userAnalytics,
  userAnalyticsQuery,
} from './analytics.schemas.ts';
import type { AnalyticsService } from './analytics.service.ts';

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
export function analyticsRoutes(deps: {
  submissions: SubmissionsService;
  analytics: AnalyticsService;
}): FastifyPluginAsyncZod {
  const tags = ['analytics'];
  return async (app) => {
    app.get(
      '/analytics/quizzes/:id',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'A quiz’s item analysis: score statistics, per-question statistics, pick rates',
          description:
            'The quiz’s author or an admin (404 to other instructors). Moodle’s quiz statistics (see analytics.spec.md): mean, median, sample sd, skewness and kurtosis of the counted attempts’ percentages; per question facility index, sd, discrimination index and discriminative efficiency, and option pick rates. Statistics that cannot be computed (too few attempts, no spread) are null. Computed in the database. `format=csv` gives the same report as a text/csv download.',
          params: idParams,
          querystring: quizReportQuery,
          response: {
            200: {
              description: 'the report (JSON), or with `format=csv` the CSV document',
              content: {
                'application/json': { schema: quizReport },
                'text/csv': { schema: z.string() },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const report = await deps.analytics.quizReport(
          principalOf(request),
          request.params.id,
          request.query.attempts,
        );
        if (request.query.format === 'json') return report;
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header(
            'content-disposition',
            `attachment; filename="quiz-${report.quizId.replace(/[^A-Za-z0-9_-]/g, '')}-report.csv"`,
          )
          .send(quizReportCsv(report));
      },
    );

    app.get(
      '/analytics/users/:id',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary:
            'A user’s analytics: quizzes taken, average score, accuracy by tag, streak, trend',
          description:
            'The user themselves or staff; to other students the user does not exist (404). `tz` sets the calendar days the streak counts.',
          params: idParams,
          querystring: userAnalyticsQuery,
          response: { 200: userAnalytics },
        },
      },
      async (request) =>
        deps.analytics.user(principalOf(request), request.params.id, {
          timeZone: request.query.tz,
          recent: request.query.recent,
        }),
    );

    app.get(
      '/analytics/me',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'The caller’s own analytics',
          description: 'As `GET /analytics/users/{id}` for the signed-in user.',
          querystring: userAnalyticsQuery,
          response: { 200: userAnalytics },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        return deps.analytics.user(principal, principal.userId, {
          timeZone: request.query.tz,
          recent: request.query.recent,
        });
      },
    );

    app.get(
      '/analytics/overview',
      {
        config: { access: ['admin'] },
        schema: {
          tags,
          summary: 'Platform totals: users, activity, quizzes, attempts, submissions, queue',
          description:
            'Admins only. Live accounts by role; users active (signed in or using a session) in the last 7 and 30 days; quizzes by status; attempts by status; submissions by verdict; jobs waiting or running per queue.',
          response: { 200: overview },
        },
      },
      async () => deps.analytics.overview(),
    );

    app.get(
      '/analytics/challenges/:id',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'A challenge’s submissions by verdict and language, acceptance, time to accept',
          description:
            'The challenge’s author or an admin (403 to other instructors and students; 404 for an unknown or deleted challenge, except to admins); computed in the database.',
          params: idParams,
          response: { 200: challengeStats },
        },
      },
      async (request) => deps.submissions.challengeStats(principalOf(request), request.params.id),
    );
  };
}
