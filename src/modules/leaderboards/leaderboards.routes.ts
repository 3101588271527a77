import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../../platform/http/access.ts';
import {
  createFanOut,
  type EventStream,
  openEventStream,
} from '../../platform/http/event-stream.ts';
import { fastSerializerCompiler } from '../../platform/http/fast-serializer.ts';
import {
  boardIdParams,
  boardQuery,
  challengeBoard,
  globalBoard,
  quizBoard,
  streamQuery,
} from './leaderboards.schemas.ts';
import type { LeaderboardChange, LeaderboardsService } from './leaderboards.service.ts';

/** A board that changes often is pushed to its streams at most this often. */
const PUSH_INTERVAL_MS = 200;

const ACCESS_NOTE =
  'Any signed-in user. Entries show display names only, never emails. Only active students are ranked (see leaderboards.spec.md).';

export function leaderboardsRoutes(deps: {
  leaderboards: LeaderboardsService;
  /** The event bus's `leaderboards.changed`, from every process. */
  subscribe: (handler: (change: LeaderboardChange) => void) => Promise<() => Promise<void>>;
  /** Counts the streams open (the metrics' gauge). */
  streams?: { inc(): void; dec(): void };
  heartbeatMs?: number;
}): FastifyPluginAsyncZod {
  const tags = ['leaderboards'];
  return async (app) => {
    const fanOut = createFanOut<{ board: string }>((event) => event.board);
    const unsubscribe = await deps.subscribe((change) => {
      for (const board of change.boards) fanOut.deliver({ board });
    });
    app.addHook('onClose', async () => unsubscribe());

    app.get(
      '/leaderboard/quizzes/:id',
      {
        config: { access: 'authenticated' },
        serializerCompiler: fastSerializerCompiler,
        schema: {
          tags,
          summary: 'A quiz’s leaderboard',
          description: `${ACCESS_NOTE} Results of graded and expired attempts count. Students get 404 for a draft or deleted quiz and 403 LEADERBOARD_HIDDEN when its author hid the board (hideLeaderboard); staff always see it.`,
          params: boardIdParams,
          querystring: boardQuery,
          response: { 200: quizBoard },
        },
      },
      async (request) =>
        deps.leaderboards.view(
          principalOf(request),
          { kind: 'quiz', id: request.params.id },
          request.query,
        ),
    );

    app.get(
      '/leaderboard/challenges/:id',
      {
        config: { access: 'authenticated' },
        serializerCompiler: fastSerializerCompiler,
        schema: {
          tags,
          summary: 'A challenge’s leaderboard',
          description: `${ACCESS_NOTE} Judged submissions made to the challenge itself count (a quiz’s code answers count for the quiz).`,
          params: boardIdParams,
          querystring: boardQuery,
          response: { 200: challengeBoard },
        },
      },
      async (request) =>
        deps.leaderboards.view(
          principalOf(request),
          { kind: 'challenge', id: request.params.id },
          request.query,
        ),
    );

    app.get(
      '/leaderboard/global',
      {
        config: { access: 'authenticated' },
        serializerCompiler: fastSerializerCompiler,
        schema: {
          tags,
          summary: 'The global leaderboard',
          description: `${ACCESS_NOTE} Each user’s best percentage per published quiz and per live challenge, summed.`,
          querystring: boardQuery,
          response: { 200: globalBoard },
        },
      },
      async (request) =>
        deps.leaderboards.view(principalOf(request), { kind: 'global' }, request.query),
    );

    app.get(
      '/leaderboard/quizzes/:id/stream',
      {
        config: { access: 'authenticated', sseTicket: true },
        schema: {
          tags,
          summary: 'Server-Sent Events: a quiz’s leaderboard as results land',
          description:
            'Who may: as GET /leaderboard/quizzes/{id}. Events: `board` with the same body as GET /leaderboard/quizzes/{id}?limit= (items and the caller’s `me`), first at once and again within a second of any change (changes close together are sent once, at most 5 times a second), from whichever API process or worker the result landed on. Comments every 15 s keep proxies from closing it; a client that stops reading is dropped. A board hidden while streaming ends the stream. EventSource cannot send headers: pass a ticket from POST /auth/sse-ticket as `?ticket=`.',
          params: boardIdParams,
          querystring: streamQuery,
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const ref = { kind: 'quiz', id: request.params.id } as const;
        const { limit } = request.query;
        let stream: EventStream | undefined;
        let timer: NodeJS.Timeout | undefined;
        let pushing = false;
        let again = false;
        const push = async () => {
          timer = undefined;
          if (!stream || stream.closed) return;
          if (pushing) {
            again = true;
            return;
          }
          pushing = true;
          try {
            stream.send('board', await deps.leaderboards.view(principal, ref, { limit }));
          } catch {
            // Hidden, deleted, or the store is down: the client reconnects and is told why.
            stream.close();
          } finally {
            pushing = false;
          }
          if (again) {
            again = false;
            schedule();
          }
        };
        const schedule = () => {
          timer ??= setTimeout(() => void push(), PUSH_INTERVAL_MS);
        };
        // Listening starts before the first read, so no change in between is missed.
        const stop = fanOut.listen(`quiz:${ref.id}`, schedule);
        let first: Awaited<ReturnType<LeaderboardsService['view']>>;
        try {
          // Refused before the stream opens, so the caller gets a proper 404 or 403.
          first = await deps.leaderboards.view(principal, ref, { limit });
        } catch (error) {
          stop();
          if (timer) clearTimeout(timer);
          throw error;
        }
        const opened = openEventStream(reply, {
          ...(deps.heartbeatMs ? { heartbeatMs: deps.heartbeatMs } : {}),
        });
        stream = opened;
        deps.streams?.inc();
        opened.onClose(() => {
          stop();
          if (timer) clearTimeout(timer);
          deps.streams?.dec();
        });
        opened.send('board', first);
      },
    );
  };
}
