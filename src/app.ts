import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import { Tokens as CsrfTokens } from '@fastify/csrf';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Deps } from './deps.ts';
import { analyticsRoutes } from './modules/analytics/analytics.routes.ts';
import { attemptsRoutes } from './modules/attempts/attempts.routes.ts';
import { attendanceRoutes } from './modules/attendance/attendance.routes.ts';
import { auditRoutes } from './modules/audit/audit.routes.ts';
import { bearerToken, createAuthenticator } from './modules/auth/auth.authenticate.ts';
import { csrfInvalid } from './modules/auth/auth.errors.ts';
import { authRoutes } from './modules/auth/auth.routes.ts';
import { challengesRoutes } from './modules/challenges/challenges.routes.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { judge0Routes } from './modules/judge0/judge0.routes.ts';
import { leaderboardsRoutes } from './modules/leaderboards/leaderboards.routes.ts';
import { notificationsRoutes } from './modules/notifications/notifications.routes.ts';
import { plagiarismRoutes } from './modules/plagiarism/plagiarism.routes.ts';
import { questionsRoutes } from './modules/questions/questions.routes.ts';
import { quizzesRoutes } from './modules/quizzes/quizzes.routes.ts';
import { sandboxRoutes } from './modules/sandbox/sandbox.routes.ts';
import { submissionsRoutes } from './modules/submissions/submissions.routes.ts';
import { usersRoutes } from './modules/users/users.routes.ts';
import { registerAccessControl } from './platform/http/access.ts';
import { registerEmptyJsonBodies } from './platform/http/empty-json.ts';
import { registerHttpMetrics } from './platform/http/metrics.ts';
import { registerOpenApi } from './platform/http/openapi.ts';
import { registerNotFoundHandler, registerProblemHandlers } from './platform/http/problem.ts';
import { registerRateLimits } from './platform/http/rate-limits.ts';
import { requestIdFrom } from './platform/http/request-id.ts';
import { registerWellFormedText } from './platform/http/well-formed-text.ts';
import { VERSION } from './version.ts';

export type App = FastifyInstance;

const QUIET_PATHS = new Set(['/health', '/metrics']);

/**
 * Builds the HTTP application on already-built dependencies. Nothing here opens connections,
 * so tests build as many apps as they like and drive them with `inject()`.
 */
export async function buildApp(deps: Deps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: requestIdFrom,
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      // Probes hit these every few seconds; logging each would drown the real traffic.
      disableRequestLogging: (request) => QUIET_PATHS.has(request.url),
    }),
    bodyLimit: deps.config.http.bodyLimitBytes,
    trustProxy:
      deps.config.http.trustedProxies.length > 0 ? [...deps.config.http.trustedProxies] : false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false } },
  });
  app.withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerProblemHandlers(app);
  registerEmptyJsonBodies(app);
  registerWellFormedText(app);
  // Only listed origins, never reflected and never '*': the API is bearer-based, but the web
  // client's refresh cookie makes credentials meaningful.
  const allowedOrigins = new Set(deps.config.http.corsOrigins);
  await app.register(cors, {
    origin: (origin, done) => done(null, origin !== undefined && allowedOrigins.has(origin)),
    credentials: true,
    allowedHeaders: [
      'authorization',
      'content-type',
      'x-csrf-token',
      'x-assay-client',
      'x-request-id',
    ],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: deps.config.http.bodyLimitBytes });
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'assay_csrf',
    cookieOpts: {
      path: '/',
      sameSite: 'strict',
      httpOnly: true,
      secure: deps.config.nodeEnv === 'production',
    },
    getToken: (request) => {
      const token = request.headers['x-csrf-token'];
      return typeof token === 'string' ? token : undefined;
    },
  });
  // The same token scheme the plugin issues with (its defaults), checked here so a failure is a
  // domain error (403 CSRF_INVALID) like any other.
  const csrfTokens = new CsrfTokens({ userInfo: false });
  const checkCsrf = async (request: FastifyRequest, _reply: FastifyReply) => {
    const secret = request.cookies.assay_csrf;
    const token = request.headers['x-csrf-token'];
    if (!secret || typeof token !== 'string' || !csrfTokens.verify(secret, token)) {
      throw csrfInvalid(
        'Get a token from GET /api/v1/auth/csrf and send it as X-CSRF-Token, with its cookie.',
      );
    }
  };

  const authenticate = createAuthenticator({
    accessTokens: deps.accessTokens,
    users: deps.users,
    redeemTicket: (ticket) => deps.auth.redeemSseTicket(ticket),
  });
  await registerRateLimits(app, {
    redis: deps.limiterConnection,
    prefix: deps.config.redis.prefix,
    clock: deps.clock,
    limits: deps.config.rateLimits,
    userOf: async (request) => {
      const token = bearerToken(request);
      return token ? (await deps.accessTokens.verify(token))?.userId : undefined;
    },
  });
  registerAccessControl(app, { authenticate });
  registerNotFoundHandler(app, { preHandler: app.rateLimit() });

  if (deps.config.metricsEnabled) {
    registerHttpMetrics(app, deps.metrics);
    app.get(
      '/metrics',
      { schema: { hide: true }, config: { access: 'public' } },
      async (_request, reply) =>
        reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
    );
  }
  await registerOpenApi(app, { version: VERSION });

  await app.register(healthRoutes({ health: deps.health }));
  await app.register(
    async (api) => {
      await api.register(
        authRoutes({
          auth: deps.auth,
          secureCookies: deps.config.nodeEnv === 'production',
          checkCsrf,
        }),
      );
      await api.register(usersRoutes({ users: deps.users, audit: deps.audit }));
      await api.register(auditRoutes({ audit: deps.audit }));
      await api.register(questionsRoutes({ questions: deps.questions, audit: deps.audit }));
      await api.register(quizzesRoutes({ quizzes: deps.quizzes, audit: deps.audit }));
      await api.register(attemptsRoutes({ attempts: deps.attempts }));
      await api.register(notificationsRoutes({ notifications: deps.notifications }));
      await api.register(attendanceRoutes({ attendance: deps.attendance, audit: deps.audit }));
      await api.register(challengesRoutes({ challenges: deps.challenges, audit: deps.audit }));
      await api.register(
        analyticsRoutes({ submissions: deps.submissions, analytics: deps.analytics }),
      );
      await api.register(plagiarismRoutes({ plagiarism: deps.plagiarism }));
      await api.register(
        submissionsRoutes({
          submissions: deps.submissions,
          submissionsPerMinute: deps.config.sandbox.submissionsPerMinute,
          subscribe: (handler) => deps.events.subscribe('submissions.changed', handler),
          streams: {
            inc: () => deps.metrics.openStreams.inc({ stream: 'submission' }),
            dec: () => deps.metrics.openStreams.dec({ stream: 'submission' }),
          },
        }),
      );
      await api.register(
        leaderboardsRoutes({
          leaderboards: deps.leaderboards,
          subscribe: (handler) => deps.events.subscribe('leaderboards.changed', handler),
          streams: {
            inc: () => deps.metrics.openStreams.inc({ stream: 'leaderboard' }),
            dec: () => deps.metrics.openStreams.dec({ stream: 'leaderboard' }),
          },
        }),
      );
      await api.register(
        sandboxRoutes({
          execution: deps.execution,
          runsPerMinute: deps.config.sandbox.runsPerMinute,
        }),
      );
    },
    { prefix: '/api/v1' },
  );
  // Judge0 clients are pointed at this prefix as their base URL; it keeps Judge0's error shapes.
  await app.register(
    judge0Routes({
      judge0: deps.judge0,
      authToken: deps.config.judge0.authToken,
      rateLimits: deps.config.rateLimits,
      runsPerMinute: deps.config.sandbox.runsPerMinute,
    }),
    { prefix: '/judge0' },
  );

  return app;
}
