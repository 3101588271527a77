import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../platform/http/access.ts';
import { createFanOut, openEventStream } from '../../platform/http/event-stream.ts';
import { pageOf } from '../../platform/http/pagination.ts';
import {
  createSubmissionBody,
  submissionAccepted,
  submissionIdParams,
  submissionsQuery,
  submissionView,
} from './submissions.schemas.ts';
import type { SubmissionEvent, SubmissionsService } from './submissions.service.ts';

export function submissionsRoutes(deps: {
  submissions: SubmissionsService;
  submissionsPerMinute: number;
  /** The event bus's `submissions.changed`, from every process. */
  subscribe: (handler: (event: SubmissionEvent) => void) => Promise<() => Promise<void>>;
  /** Counts the streams open (the metrics' gauge). */
  streams?: { inc(): void; dec(): void };
  heartbeatMs?: number;
}): FastifyPluginAsyncZod {
  const tags = ['submissions'];
  return async (app) => {
    const fanOut = createFanOut<SubmissionEvent>((event) => event.submissionId);
    const unsubscribe = await deps.subscribe((event) => fanOut.deliver(event));
    app.addHook('onClose', async () => unsubscribe());

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
          description:
            '400 VALIDATION_FAILED naming the field: an unknown challenge, a language the challenge does not take, a source over 64 KiB, or an `attemptId` (code answers of a quiz are judged when their attempt is submitted). 409 CHALLENGE_HAS_NO_TESTS while the challenge has no test cases. 429 past `RATE_LIMIT_SUBMISSIONS_PER_MINUTE`.',
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
          description:
            'Students see their own. An instructor sees the submissions to the challenges they wrote (one of them with `challengeId`, 403 for another’s challenge), or their own with `mine=true`. Admins see all.',
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

    app.get(
      '/submissions/:id/events',
      {
        config: { access: 'authenticated', sseTicket: true },
        schema: {
          tags,
          summary: 'Server-Sent Events: status changes and per-test progress until judged',
          description:
            'Events: `status` `{ status }` first and on every change; `test` `{ index, of, verdict }` as each test ends (hidden tests by verdict only); `result` with the whole submission (as GET /submissions/{id}) when judged, then the stream ends. Comments every 15 s keep proxies from closing it. EventSource cannot send headers: pass a ticket from POST /auth/sse-ticket as `?ticket=`.',
          params: submissionIdParams,
          querystring: z.strictObject({ ticket: z.string().max(200).optional() }),
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const { id } = request.params;
        // Refused before the stream opens, so the caller gets a proper 404.
        await deps.submissions.visibleRow(principal, id);
        const stream = openEventStream(reply, {
          ...(deps.heartbeatMs ? { heartbeatMs: deps.heartbeatMs } : {}),
        });
        let finished = false;
        const finish = async (view?: Awaited<ReturnType<SubmissionsService['get']>>) => {
          if (finished) return;
          finished = true;
          stream.send('result', view ?? (await deps.submissions.get(principal, id)));
          stream.close();
        };
        // Listening starts before the snapshot is read, so no change in between is missed.
        const stop = fanOut.listen(id, (event) => {
          if (event.test) stream.send('test', event.test);
          else if (event.status === 'completed' || event.status === 'failed')
            void finish().catch(() => stream.close());
          else stream.send('status', { status: event.status });
        });
        deps.streams?.inc();
        stream.onClose(() => {
          stop();
          deps.streams?.dec();
        });
        const snapshot = await deps.submissions.get(principal, id);
        stream.send('status', { status: snapshot.status });
        if (snapshot.status === 'completed' || snapshot.status === 'failed') await finish(snapshot);
      },
    );
  };
}
