import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Database, Transaction } from '../../platform/db/database.ts';
import { forbidden, type Principal } from '../../platform/http/access.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import { challengeNotFound } from '../challenges/challenges.errors.ts';
import { presentReport, usersOf } from './plagiarism.presenter.ts';
import { buildReport, type ComparedSubmission, REPORT_THRESHOLD } from './plagiarism.report.ts';
import type { PlagiarismRepository } from './plagiarism.repository.ts';

/** What plagiarism needs of challenges; the challenges service provides it. */
export interface ChallengeAccess {
  /** A live challenge, or null. */
  find(id: string): Promise<{ id: string } | null>;
  /** Whether this principal is the challenge's author (or an admin). */
  manages(principal: Principal, id: string): Promise<boolean>;
}

export type ReportRequest = { challengeId: string; requestId: string };

export function createPlagiarismService(deps: {
  db: Database;
  repository: PlagiarismRepository;
  challenges: ChallengeAccess;
  /** Each user's latest judged submission per language (the submissions module). */
  sources: { latestPerUser(challengeId: string): Promise<ComparedSubmission[]> };
  users: {
    publicStandings(ids: readonly string[]): Promise<ReadonlyMap<string, { name: string }>>;
  };
  /** Records the recompute job in the caller's transaction; the result dispatches it. */
  enqueueReport: (tx: Transaction, request: ReportRequest) => Promise<() => Promise<void>>;
  clock: Clock;
  logger: Logger;
}) {
  const { repository } = deps;

  /**
   * The challenge's author or an admin, as for its analytics. Anyone signed in reads a live
   * challenge, so its existence is no secret: other instructors get 403, not 404. A deleted
   * challenge is 404 to everyone (its report is of no more use than its submissions list).
   */
  const authorize = async (principal: Principal, challengeId: string) => {
    if (!(await deps.challenges.find(challengeId))) throw challengeNotFound();
    if (principal.role !== 'admin' && !(await deps.challenges.manages(principal, challengeId)))
      throw forbidden('Only the challenge’s author or an admin sees its plagiarism report.');
  };

  return {
    async report(principal: Principal, challengeId: string, options: { minSimilarity?: number }) {
      await authorize(principal, challengeId);
      const row = await repository.find(challengeId);
      const standings = await deps.users.publicStandings([...new Set(usersOf(row))]);
      const names = new Map([...standings].map(([id, standing]) => [id, standing.name]));
      return presentReport({
        challengeId,
        row,
        names,
        minSimilarity: options.minSimilarity ?? REPORT_THRESHOLD,
      });
    },

    /**
     * Queues a recompute. While one is queued or running, asking again changes nothing: it
     * answers with that one's status instead of piling up jobs.
     */
    async request(principal: Principal, challengeId: string) {
      await authorize(principal, challengeId);
      const { status, dispatch } = await deps.db.transaction(async (tx) => {
        const requestId = randomUUID();
        const queued = await repository.request(tx, {
          challengeId,
          requestId,
          requestedAt: deps.clock.now(),
        });
        if (!queued) {
          const current = await repository.find(challengeId, tx);
          return { status: current?.status ?? 'queued', dispatch: undefined };
        }
        return {
          status: queued.status,
          dispatch: await deps.enqueueReport(tx, { challengeId, requestId }),
        };
      });
      // After the commit: a lost hand-over is found by the sweeper.
      await dispatch?.();
      return { challengeId, status: status === 'running' ? 'running' : 'queued' } as const;
    },

    /**
     * The job: compares the challenge's submissions and writes the report in the job's
     * transaction. Idempotent: a request already served, or superseded, is left alone.
     */
    async compute(input: {
      request: ReportRequest;
      signal: AbortSignal;
      transaction: <T>(work: (tx: Transaction) => Promise<T>) => Promise<T>;
      logger: Logger;
    }) {
      const { challengeId, requestId } = input.request;
      if (!(await repository.start(challengeId, requestId))) {
        input.logger.info({ challengeId }, 'plagiarism request already served; nothing to do');
        return;
      }
      const submissions = await deps.sources.latestPerUser(challengeId);
      const started = performance.now();
      const pairs = await buildReport({ submissions, signal: input.signal });
      const written = await input.transaction((tx) =>
        repository.complete(tx, {
          challengeId,
          requestId,
          pairs,
          submissionsCompared: submissions.length,
          computedAt: deps.clock.now(),
        }),
      );
      // Counts only: sources are never logged.
      input.logger.info(
        {
          challengeId,
          submissions: submissions.length,
          pairs: pairs.length,
          ms: Math.round(performance.now() - started),
          written,
        },
        'plagiarism report computed',
      );
    },

    /** Its job failed for good: the report says so and keeps the previous pairs. */
    async abandon(request: ReportRequest, reason: string) {
      await repository.fail(request.challengeId, request.requestId, reason);
      deps.logger.warn({ challengeId: request.challengeId }, 'plagiarism report failed');
    },
  };
}

export type PlagiarismService = ReturnType<typeof createPlagiarismService>;
