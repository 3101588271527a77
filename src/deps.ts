import { resolve } from 'node:path';
import { type AppEvents, type AppJobs, appJobCatalogue } from './jobs.ts';
import { createAnalyticsService } from './modules/analytics/analytics.service.ts';
import { createAttemptsRepository } from './modules/attempts/attempts.repository.ts';
import { createAttemptsService } from './modules/attempts/attempts.service.ts';
import { createAttendanceRepository } from './modules/attendance/attendance.repository.ts';
import { createAttendanceService } from './modules/attendance/attendance.service.ts';
import { createAuditService } from './modules/audit/audit.service.ts';
import { createAuthRepository } from './modules/auth/auth.repository.ts';
import { createAuthService } from './modules/auth/auth.service.ts';
import { createAccessTokens } from './modules/auth/auth.tokens.ts';
import { createRedisOtpHistory, createTableOtpHistory } from './modules/auth/otp-history.ts';
import { createChallengesRepository } from './modules/challenges/challenges.repository.ts';
import {
  type ChallengesService,
  createChallengesService,
} from './modules/challenges/challenges.service.ts';
import { createCreditsService } from './modules/credits/credits.service.ts';
import { createHealthService, type HealthCheck } from './modules/health/health.service.ts';
import { judge0RunJobId } from './modules/judge0/judge0.jobs.ts';
import { createJudge0Repository } from './modules/judge0/judge0.repository.ts';
import { createJudge0Service } from './modules/judge0/judge0.service.ts';
import { createRedisBoardStore } from './modules/leaderboards/leaderboards.redis-store.ts';
import { createLeaderboardsService } from './modules/leaderboards/leaderboards.service.ts';
import { createSqlBoardStore } from './modules/leaderboards/leaderboards.sql-store.ts';
import { mailJobId } from './modules/notifications/notifications.jobs.ts';
import { createNotificationsRepository } from './modules/notifications/notifications.repository.ts';
import { createNotificationsService } from './modules/notifications/notifications.service.ts';
import { plagiarismReportJobId } from './modules/plagiarism/plagiarism.jobs.ts';
import { createPlagiarismRepository } from './modules/plagiarism/plagiarism.repository.ts';
import { createPlagiarismService } from './modules/plagiarism/plagiarism.service.ts';
import { createQuestionsRepository } from './modules/questions/questions.repository.ts';
import { createQuestionsService } from './modules/questions/questions.service.ts';
import { announceJobId } from './modules/quizzes/quizzes.jobs.ts';
import { createQuizzesRepository } from './modules/quizzes/quizzes.repository.ts';
import { createQuizzesService } from './modules/quizzes/quizzes.service.ts';
import { createExecutionService } from './modules/sandbox/sandbox.execution.ts';
import type { SandboxHost } from './modules/sandbox/sandbox.host.ts';
import { hiddenHostPaths } from './modules/sandbox/sandbox.selftest.ts';
import { createFeedback } from './modules/submissions/submissions.feedback.ts';
import { judgeJobId, submissionsJobCatalogue } from './modules/submissions/submissions.jobs.ts';
import { createSubmissionsRepository } from './modules/submissions/submissions.repository.ts';
import {
  createSubmissionsService,
  type SubmissionsService,
} from './modules/submissions/submissions.service.ts';
import { createSubmissionSources } from './modules/submissions/submissions.sources.ts';
import { createUsersRepository } from './modules/users/users.repository.ts';
import { createUsersService } from './modules/users/users.service.ts';
import { type Clock, systemClock } from './platform/clock/clock.ts';
import type { Config } from './platform/config/config.ts';
import { resolveJwtSecret } from './platform/config/secrets.ts';
import { type DatabaseHandle, openDatabase, type Transaction } from './platform/db/database.ts';
import { createMemoryEventBus, type EventBus } from './platform/events/event-bus.ts';
import { createMetrics } from './platform/http/metrics.ts';
import type { Logger } from './platform/logger/logger.ts';
import { createMailer } from './platform/mail/mailer.ts';
import { PACKAGE_ROOT } from './platform/paths.ts';
import { createJobQueue } from './platform/queue/job-queue.ts';
import { createMemoryDriver } from './platform/queue/memory-driver.ts';
import type { QueueDriver } from './platform/queue/queue.types.ts';
import {
  createMemoryRateLimiter,
  createRedisRateLimiter,
  type RateLimiter,
} from './platform/ratelimit/limiter.ts';
import { createRedisFactory, type RedisFactory, withTimeout } from './platform/redis/redis.ts';
import { createStorage } from './platform/storage/create-storage.ts';

export type DepsOverrides = {
  clock?: Clock;
  /** An already-open database (tests hand in a fresh one). */
  database?: DatabaseHandle;
  /** Skip applying migrations on open (the `migrate` command does it explicitly). */
  migrate?: boolean;
  /** How the sandbox host is found (tests stand in a machine without bubblewrap). */
  detectSandboxHost?: () => Promise<SandboxHost>;
};

/**
 * The composition root: builds every long-lived object once, from the config. Web and worker
 * roles both start from here, so a worker never needs an HTTP server.
 */
export async function createDeps(config: Config, logger: Logger, overrides: DepsOverrides = {}) {
  const clock = overrides.clock ?? systemClock;
  const database =
    overrides.database ??
    (config.database.url
      ? await openDatabase({
          kind: 'postgres',
          url: config.database.url,
          poolMax: config.database.poolMax,
          logger,
        })
      : await openDatabase({ kind: 'pglite', dataDir: resolve(config.dataDir, 'db'), logger }));
  if (overrides.migrate !== false) await database.migrate();

  const redis: RedisFactory | undefined = config.redis.url
    ? createRedisFactory({ url: config.redis.url, prefix: config.redis.prefix, logger })
    : undefined;
  const redisProbe = redis?.connect({ name: 'assay-health' });

  // BullMQ and the Redis bus load only when Redis is configured.
  const driver: QueueDriver = redis
    ? (await import('./platform/queue/bullmq-driver.ts')).createBullmqDriver({ redis, logger })
    : createMemoryDriver({ logger });
  const events: EventBus<AppEvents> = redis
    ? (await import('./platform/events/redis-event-bus.ts')).createRedisEventBus<AppEvents>({
        redis,
        logger,
      })
    : createMemoryEventBus<AppEvents>({ logger });

  let metrics: ReturnType<typeof createMetrics> | undefined;
  const jobs = createJobQueue<AppJobs>({
    db: database.db,
    driver,
    catalogue: appJobCatalogue,
    logger: logger.child({ component: 'jobs' }),
    leaseMs: config.jobs.leaseMs,
    sweepIntervalMs: config.jobs.sweepIntervalMs,
    onJobFinished: ({ type, outcome }) => metrics?.jobsProcessed.inc({ type, outcome }),
  });
  /** The ledger's jobs, and the judge jobs that live in their submissions (owner-kept). */
  const queueDepth = async () => {
    const { queued, running } = await submissionsRef().backlog();
    const judge = submissionsJobCatalogue['submissions.judge'].queue;
    const rows = [
      ...(await jobs.depth()),
      { queue: judge, status: 'pending', count: queued },
      { queue: judge, status: 'running', count: running },
    ];
    // Judge0 runs share the judge queue: one count per queue and state.
    const summed = new Map<string, { queue: string; status: string; count: number }>();
    for (const row of rows) {
      const key = `${row.queue} ${row.status}`;
      const entry = summed.get(key);
      if (entry) entry.count += row.count;
      else summed.set(key, { ...row });
    }
    return [...summed.values()].filter((row) => row.count > 0);
  };
  metrics = createMetrics({ queueDepth });

  const storage = createStorage(config);

  // Detection (host, self-test, toolchains) runs on first use: /health, /languages or a run.
  const execution = createExecutionService({
    settings: config.sandbox,
    logger,
    hiddenPaths: hiddenHostPaths({ dataDir: config.dataDir, appDir: PACKAGE_ROOT }),
    appDir: PACKAGE_ROOT,
    hostPath: config.hostPath,
    ...(overrides.detectSandboxHost ? { detectHost: overrides.detectSandboxHost } : {}),
  });

  const checks: HealthCheck[] = [
    { name: 'db', critical: true, run: () => database.ping() },
    ...(redisProbe ? [{ name: 'redis', critical: false, run: () => redisProbe.ping() }] : []),
    { name: 'storage', critical: false, run: () => storage.check() },
    {
      name: 'sandbox',
      critical: false,
      explains: true,
      // Never waits for detection (a self-test and a probe per toolchain take seconds on a busy
      // machine): until it is done the sandbox is honestly down.
      run: async () => {
        const status = execution.peek();
        if (!status) throw new Error('still detecting (self-test and toolchain probes)');
        if (!status.available) throw new Error(status.reason ?? 'unavailable');
        return { languages: status.languages.map((language) => language.id) };
      },
    },
  ];
  const health = createHealthService({
    checks,
    cacheMs: config.health.cacheMs,
    timeoutMs: config.health.checkTimeoutMs,
    logger,
  });

  // Set once the auth service exists; user changes only happen after start-up completes.
  let revokeSessions: ((userId: string) => Promise<void>) | undefined;
  const users = createUsersService({
    repository: createUsersRepository(database.db),
    logger: logger.child({ component: 'users' }),
    clock,
    // Other processes cache auth state too: tell them to drop it (role changes apply at once).
    onChange: async (change) => {
      if (change.action === 'disabled' || change.action === 'deleted') {
        // Refresh tokens are auth's; end them before the change is reported done, so
        // re-enabling the account later does not revive old sign-ins.
        await revokeSessions?.(change.userId);
      }
      events
        .publish('users.changed', { userId: change.userId })
        .catch((error: unknown) => logger.warn({ err: error }, 'could not publish users.changed'));
    },
  });
  await events.subscribe('users.changed', ({ userId }) => users.forget(userId));

  const jwtSecret = await resolveJwtSecret(config);
  const mailer = createMailer({
    smtpUrl: config.mail.smtpUrl,
    from: config.mail.from,
    dataDir: config.dataDir,
    logger: logger.child({ component: 'mail' }),
  });
  const limiterConnection = redis?.connect({ name: 'assay-ratelimit' });
  const limiter: RateLimiter = limiterConnection
    ? createRedisRateLimiter({ redis: limiterConnection, prefix: config.redis.prefix, clock })
    : createMemoryRateLimiter({ clock });
  const audit = createAuditService({ db: database.db, clock, logger });
  const credits = createCreditsService({ db: database.db });
  const accessTokens = createAccessTokens({ secret: jwtSecret, clock });
  const auth = createAuthService({
    db: database.db,
    repository: createAuthRepository(database.db),
    users,
    audit,
    credits,
    mailer,
    limiter,
    otpHistory: limiterConnection
      ? createRedisOtpHistory({
          redis: limiterConnection,
          prefix: config.redis.prefix,
          secret: jwtSecret,
        })
      : createTableOtpHistory({ db: database.db, secret: jwtSecret }),
    accessTokens,
    clock,
    logger: logger.child({ component: 'auth' }),
    loginPerMinute: config.rateLimits.loginPerMinute,
  });
  revokeSessions = (userId) => auth.revokeAllSessions(userId);
  // Attempts cache quiz papers; changes in this process drop them at once (others within 2 s).
  let forgetPaper: ((quizId?: string) => void) | undefined;
  let forgetBoardQuiz: ((quizId: string) => void) | undefined;
  let questionInUse: ((questionId: string) => Promise<boolean>) | undefined;
  let challengesRef: () => ChallengesService = () => {
    throw new Error('challenges are not ready yet');
  };
  const questions = createQuestionsService({
    repository: createQuestionsRepository(database.db),
    clock,
    onChange: () => forgetPaper?.(),
    inUse: async (id) => (await questionInUse?.(id)) ?? false,
    // Late-bound: challenges are made after questions.
    liveChallenges: (ids) => challengesRef().liveIds(ids),
  });
  const enqueueAnnouncement = async (
    tx: Transaction,
    payload: { quizId: string; cursor?: string },
  ) =>
    (
      await jobs.enqueueIn(tx, 'quizzes.announce', payload, {
        jobId: announceJobId(payload.quizId, payload.cursor),
      })
    ).dispatch;
  const quizzes = createQuizzesService({
    repository: createQuizzesRepository(database.db),
    questions,
    clock,
    onChange: (quizId) => {
      forgetPaper?.(quizId);
      forgetBoardQuiz?.(quizId);
    },
    announce: (tx, quizId) => enqueueAnnouncement(tx, { quizId }),
  });
  // In-app notices and their mail jobs, recorded in the transaction where each fact lands.
  const notifications = createNotificationsService({
    repository: createNotificationsRepository(database.db),
    quizzes,
    enqueueMail: async (tx, notificationId) =>
      (
        await jobs.enqueueIn(
          tx,
          'notifications.mail',
          { notificationId },
          { jobId: mailJobId(notificationId) },
        )
      ).dispatch,
    clock,
    logger: logger.child({ component: 'notifications' }),
  });
  const attendance = createAttendanceService({
    repository: createAttendanceRepository(database.db),
    quizzes,
    users,
    clock,
  });
  let submissionsRef: () => SubmissionsService = () => {
    throw new Error('submissions are not ready yet');
  };
  const attempts = createAttemptsService({
    db: database.db,
    repository: createAttemptsRepository(database.db),
    quizzes,
    questions,
    attendance,
    clock,
    logger: logger.child({ component: 'attempts' }),
    graceMs: config.attemptGraceMs,
    // Late-bound: submissions are made after attempts (each needs the other).
    code: {
      challengesOf: (ids) => submissionsRef().challengesOf(ids),
      submit: (tx, input) => submissionsRef().submitInTransaction(tx, input),
    },
    onResult: async (tx, result) => {
      const notified = await notifications.resultAvailable(tx, result);
      return async () => {
        await notified();
        await events
          .publish('attempts.graded', result)
          .catch((error: unknown) =>
            logger.warn({ err: error, attemptId: result.attemptId }, 'could not publish a result'),
          );
      };
    },
  });
  forgetPaper = attempts.forgetPaper;
  const judge0 = createJudge0Service({
    repository: createJudge0Repository(database.db),
    execution,
    enqueueRun: async (tx, token) =>
      (await jobs.enqueueIn(tx, 'judge0.run', { token }, { jobId: judge0RunJobId(token) }))
        .dispatch,
    clock,
    logger: logger.child({ component: 'judge0' }),
  });
  questionInUse = attempts.questionInUse;
  const challenges = createChallengesService({
    repository: createChallengesRepository(database.db),
    storage,
    execution,
    clock,
    logger: logger.child({ component: 'challenges' }),
  });
  challengesRef = () => challenges;
  const submissions = createSubmissionsService({
    db: database.db,
    repository: createSubmissionsRepository(database.db),
    challenges,
    execution,
    enqueueJudge: async (tx, submissionId) =>
      (
        await jobs.enqueueIn(
          tx,
          'submissions.judge',
          { submissionId },
          { jobId: judgeJobId(submissionId) },
        )
      ).dispatch,
    publish: (event) => events.publish('submissions.changed', event),
    onAttemptJudged: (tx, judged) => attempts.codeJudged(tx, judged),
    onJudged: (tx, judged) => notifications.submissionJudged(tx, judged),
    feedback: createFeedback({ llm: config.llm, logger: logger.child({ component: 'feedback' }) }),
    clock,
    logger: logger.child({ component: 'submissions' }),
  });
  submissionsRef = () => submissions;
  const plagiarism = createPlagiarismService({
    db: database.db,
    repository: createPlagiarismRepository(database.db),
    challenges,
    sources: createSubmissionSources(database.db),
    users,
    enqueueReport: async (tx, request) =>
      (
        await jobs.enqueueIn(tx, 'plagiarism.report', request, {
          jobId: plagiarismReportJobId(request),
        })
      ).dispatch,
    clock,
    logger: logger.child({ component: 'plagiarism' }),
  });
  const analytics = createAnalyticsService({
    attempts,
    submissions,
    quizzes,
    questions,
    users,
    auth,
    queueDepth,
    clock,
  });

  // Boards: Redis sorted sets with Redis, SQL otherwise; either is a cache of the results.
  const boardStore = redis
    ? createRedisBoardStore({
        redis: redis.connect({ name: 'assay-leaderboards' }),
        prefix: redis.prefix,
      })
    : createSqlBoardStore({ db: database.db, clock });
  const leaderboards = createLeaderboardsService({
    store: boardStore,
    sources: {
      bestQuizResults: (filter) => attempts.bestResults(filter),
      bestChallengeResults: (filter) => submissions.bestResults(filter),
      quizFacts: (ids) => quizzes.boardFacts(ids),
      liveChallenges: (ids) => challenges.liveIds(ids),
      users: (ids) => users.publicStandings(ids),
    },
    publish: (change) => events.publish('leaderboards.changed', change),
    clock,
    logger: logger.child({ component: 'leaderboards' }),
  });
  forgetBoardQuiz = (quizId) => leaderboards.forgetQuiz(quizId);
  // A board changed in another process: drop what this one cached of it.
  await events.subscribe('leaderboards.changed', ({ boards }) => leaderboards.changed(boards));

  return {
    config,
    logger,
    clock,
    database,
    redis,
    driver,
    events,
    jobs,
    metrics,
    storage,
    health,
    users,
    jwtSecret,
    mailer,
    limiter,
    limiterConnection,
    audit,
    credits,
    accessTokens,
    auth,
    questions,
    quizzes,
    attendance,
    attempts,
    notifications,
    execution,
    judge0,
    submissions,
    analytics,
    challenges,
    leaderboards,
    plagiarism,
    enqueueAnnouncement,
    /** Closes in reverse order of need: broker and bus first, the database last. */
    async close() {
      // Mail still being sent for answered requests: give it the shutdown bound, then move on.
      await withTimeout(auth.idle(), config.shutdownTimeoutMs, 'pending auth mail').catch(
        (error: unknown) => logger.warn({ err: error }, 'stopped before all auth mail was sent'),
      );
      await events
        .close()
        .catch((error: unknown) => logger.warn({ err: error }, 'event bus close failed'));
      await driver
        .close()
        .catch((error: unknown) => logger.warn({ err: error }, 'queue close failed'));
      await execution
        .close()
        .catch((error: unknown) => logger.warn({ err: error }, 'sandbox close failed'));
      redisProbe?.disconnect();
      await boardStore
        .close()
        .catch((error: unknown) => logger.warn({ err: error }, 'leaderboard store close failed'));
      limiterConnection?.disconnect();
      await mailer.close().catch(() => {});
      storage.close();
      await database
        .close()
        .catch((error: unknown) => logger.warn({ err: error }, 'database close failed'));
    },
  };
}

export type Deps = Awaited<ReturnType<typeof createDeps>>;
