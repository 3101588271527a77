import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Database, Transaction } from '../../platform/db/database.ts';
import { validationFailed } from '../../platform/errors/errors.ts';
import { forbidden, type Principal } from '../../platform/http/access.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import type { CodeAnswerSubmission } from '../attempts/attempts.service.ts';
import { challengeNotFound } from '../challenges/challenges.errors.ts';
import type { ExecutionService } from '../sandbox/sandbox.execution.types.ts';
import type { CheckerName } from './submissions.checkers.ts';
import { challengeHasNoTests, submissionNotFound } from './submissions.errors.ts';
import { type CreateFeedback, publicTestData } from './submissions.feedback.ts';
import {
  displayText,
  judgeTest,
  overallVerdict,
  type SubmissionStatus,
  type SubmissionVerdict,
  scoreOf,
  type TestOutcome,
} from './submissions.models.ts';
import type {
  JudgedColumns,
  SubmissionBest,
  SubmissionsRepository,
} from './submissions.repository.ts';
import { createSubmissionStatistics } from './submissions.statistics.ts';
import type { SubmissionRow } from './submissions.tables.ts';

const MiB = 1024 * 1024;
/** Compiler output kept with the submission. */
const MAX_COMPILE_OUTPUT = 64 * 1024;
export const JUDGE_ATTEMPTS = 3;

/** What the judge needs of a challenge; the challenges module provides it. */
export interface JudgedChallenge {
  id: string;
  title: string;
  languages: readonly string[];
  timeLimitMs: number;
  memoryLimitMb: number;
  checker: CheckerName;
  floatTolerance: number | null;
  points: number;
  statement: string;
  testCount: number;
  deleted: boolean;
}

export interface ChallengePort {
  /** A live challenge, or null; with `includeDeleted` also one deleted after a submission. */
  find(id: string, options?: { includeDeleted?: boolean }): Promise<JudgedChallenge | null>;
  /** Every test in judging order, with its data. Internal: never shown to anyone. */
  testsForJudging(
    id: string,
  ): Promise<Array<{ hidden: boolean; weight: number; input: Buffer; expectedOutput: Buffer }>>;
  /** Whether this staff member may see the challenge's submissions. */
  manages(principal: Principal, id: string): Promise<boolean>;
  /** The challenges an instructor wrote: the ones whose submissions they see. */
  idsManagedBy(principal: Principal): Promise<string[]>;
}

export type SubmissionEvent = {
  submissionId: string;
  userId: string;
  status: SubmissionStatus;
  verdict?: SubmissionVerdict;
  /** Per-test progress while running: which test ended, and how. */
  test?: { index: number; of: number; verdict: TestOutcome['verdict'] };
};

/** What `onJudged` is told: the outcome, never a test's data. */
export type JudgedSubmission = {
  submissionId: string;
  userId: string;
  challengeId: string;
  /** Null when the challenge is gone. */
  challengeTitle: string | null;
  attemptId: string | null;
  language: string;
  status: SubmissionStatus;
  verdict: SubmissionVerdict;
  score: number;
  maxScore: number;
};

export type { SubmissionBest } from './submissions.repository.ts';

const cursorSchema = z.object({ createdAt: z.iso.datetime(), id: z.string() });

const isStaff = (principal: Principal) =>
  principal.role === 'admin' || principal.role === 'instructor';

export function createSubmissionsService(deps: {
  db: Database;
  repository: SubmissionsRepository;
  challenges: ChallengePort;
  execution: ExecutionService;
  enqueueJudge: (tx: Transaction, submissionId: string) => Promise<() => Promise<void>>;
  publish: (event: SubmissionEvent) => Promise<void>;
  /** A code answer of an attempt was judged: in the judge's transaction (the attempts module). */
  onAttemptJudged?: (
    tx: Transaction,
    judged: { attemptId: string; submissionId: string; score: number; maxScore: number },
  ) => Promise<(() => Promise<void>) | undefined>;
  /**
   * Any submission was judged (quiz code answers too, with their `attemptId`): in the judge's
   * transaction, next to `onAttemptJudged`, so work recorded here (notices) commits with it.
   */
  onJudged?: (
    tx: Transaction,
    judged: JudgedSubmission,
  ) => Promise<(() => Promise<void>) | undefined>;
  /** Feedback on a judged submission (heuristic, or an LLM's when configured). */
  feedback?: CreateFeedback;
  clock: Clock;
  logger: Logger;
}) {
  const { repository, clock } = deps;
  const statistics = createSubmissionStatistics(deps.db);

  const publish = (event: SubmissionEvent) =>
    deps
      .publish(event)
      .catch((error: unknown) =>
        deps.logger.warn({ err: error, submissionId: event.submissionId }, 'could not publish'),
      );

  /**
   * Writes a judged (or abandoned) submission once, with the attempt's points and the judged
   * notice in the same transaction; then runs their after-commit steps and publishes the event.
   */
  const land = async (
    row: SubmissionRow,
    columns: Omit<JudgedColumns, 'finishedAt'>,
    /** The judge's claim; null for a give-up, which needs none. */
    holder: string | null,
    challengeTitle: string | null,
  ): Promise<boolean> => {
    const submissionId = row.id;
    const afterCommit: Array<(() => Promise<void>) | undefined> = [];
    const written = await deps.db.transaction(async (tx) => {
      const done = await repository.finish(
        tx,
        submissionId,
        { ...columns, finishedAt: clock.now() },
        holder,
      );
      // The attempt's points move in the same transaction: never one without the other.
      if (done && row.attemptId && deps.onAttemptJudged)
        afterCommit.push(
          await deps.onAttemptJudged(tx, {
            attemptId: row.attemptId,
            submissionId,
            score: columns.score,
            maxScore: Number(row.maxScore),
          }),
        );
      if (done && deps.onJudged)
        afterCommit.push(
          await deps.onJudged(tx, {
            submissionId,
            userId: row.userId,
            challengeId: row.challengeId,
            challengeTitle,
            attemptId: row.attemptId,
            language: row.language,
            status: columns.status,
            verdict: columns.verdict,
            score: columns.score,
            maxScore: Number(row.maxScore),
          }),
        );
      return done;
    });
    if (written) for (const step of afterCommit) await step?.();
    if (written)
      await publish({
        submissionId,
        userId: row.userId,
        status: columns.status,
        verdict: columns.verdict,
      });
    return written;
  };

  /** One judge try of a claimed submission (`tries` counts this one). */
  const judgeClaimed = async (
    row: SubmissionRow,
    holder: string,
    logger: Logger,
    /** Called as the outcome is written: a heartbeat after that would find the claim gone. */
    settle: () => void,
  ) => {
    const submissionId = row.id;
    const lastTry = row.tries >= JUDGE_ATTEMPTS;
    const challenge = await deps.challenges.find(row.challengeId, { includeDeleted: true });
    const tests = challenge ? await deps.challenges.testsForJudging(challenge.id) : [];
    const write = async (judgedColumns: Omit<JudgedColumns, 'finishedAt' | 'feedback'>) => {
      // Outside the transaction: an LLM may take seconds, and holds no lock meanwhile.
      const columns = {
        ...judgedColumns,
        feedback:
          deps.feedback && challenge && judgedColumns.verdict !== 'internal_error'
            ? await deps.feedback({
                statement: challenge.statement,
                language: row.language,
                source: row.source,
                verdict: judgedColumns.verdict,
                compileOutput: judgedColumns.compileOutput,
                tests: judgedColumns.tests,
                publicTests: publicTestData(tests),
                timeLimitMs: challenge.timeLimitMs,
              })
            : null,
      };
      settle();
      if (await land(row, columns, holder, challenge?.title ?? null))
        logger.info({ submissionId, verdict: columns.verdict, score: columns.score }, 'judged');
      else logger.warn({ submissionId }, 'judged after losing the claim; the outcome was dropped');
    };
    const failInternally = (reason: string) => {
      logger.error({ submissionId, reason }, 'submission could not be judged');
      return write({
        status: 'failed',
        verdict: 'internal_error',
        score: 0,
        tests: [],
        compileOutput: null,
      });
    };

    // Only reachable when judges keep dying mid-judging: stop feeding it to them.
    if (row.tries > JUDGE_ATTEMPTS) return failInternally('every try ended with its judge gone');
    await publish({ submissionId, userId: row.userId, status: 'running' });
    if (!challenge) return failInternally('the challenge is gone');
    // Refused at submit; a quiz's code answer can still name such a challenge. Passing no
    // tests is no accept.
    if (tests.length === 0) return failInternally('the challenge has no test cases');
    const judged = (index: number, run: Parameters<typeof judgeTest>[0]['run']) => {
      const test = tests[index]!;
      return judgeTest({
        index: index + 1,
        hidden: test.hidden,
        weight: test.weight,
        run,
        expected: test.expectedOutput,
        checker: challenge.checker,
        floatTolerance: challenge.floatTolerance,
      });
    };

    let outcome: Awaited<ReturnType<ExecutionService['executeTests']>>;
    try {
      outcome = await deps.execution.executeTests({
        owner: `user:${row.userId}`,
        language: row.language,
        source: row.source,
        tests: tests.map((test) => ({ stdin: test.input })),
        limits: {
          cpuMs: challenge.timeLimitMs,
          // Waiting for I/O or start-up is not CPU: give the wall clock room.
          wallMs: Math.max(5_000, challenge.timeLimitMs * 2 + 1_000),
          memoryBytes: challenge.memoryLimitMb * MiB,
        },
        onTest: (index, run) =>
          publish({
            submissionId,
            userId: row.userId,
            status: 'running',
            test: { index: index + 1, of: tests.length, verdict: judged(index, run).verdict },
          }),
      });
    } catch (error) {
      if (!lastTry) throw error;
      return failInternally((error as Error).message);
    }

    const compileOutput = outcome.compile
      ? displayText(outcome.compile.output.subarray(0, MAX_COMPILE_OUTPUT))
      : null;
    if (outcome.compile && outcome.compile.status !== 'ok') {
      if (outcome.compile.status === 'internal_error') {
        if (!lastTry) throw new Error('the compile step failed in the harness');
        return failInternally('the compile step failed in the harness');
      }
      return write({
        status: 'completed',
        verdict: 'compilation_error',
        score: 0,
        tests: [],
        compileOutput,
      });
    }
    const results = outcome.tests.map((run, index) => judged(index, run));
    if (results.some((test) => test.verdict === 'internal_error') && !lastTry)
      throw new Error('a test failed in the harness');
    return write({
      status: 'completed',
      verdict: overallVerdict(results),
      score: scoreOf(results, challenge.points),
      tests: results,
      compileOutput,
    });
  };

  /**
   * Its judge job failed for good (e.g. the database kept failing the last try, or its
   * workers kept dying): the submission ends as `internal_error`, and a quiz's code answer
   * scores 0, so neither the student nor the attempt waits forever. Never over a judge that
   * holds it: that judge's outcome stands.
   */
  const abandon = async (submissionId: string, reason: string) => {
    const row = await repository.find(submissionId);
    if (!row || (row.status !== 'queued' && row.status !== 'running')) return;
    const challenge = await deps.challenges.find(row.challengeId, { includeDeleted: true });
    const written = await land(
      row,
      {
        status: 'failed',
        verdict: 'internal_error',
        score: 0,
        tests: [],
        compileOutput: null,
        feedback: null,
      },
      null,
      challenge?.title ?? null,
    );
    if (written)
      deps.logger.error(
        { submissionId, reason },
        'submission abandoned: its judge job failed for good',
      );
  };

  const present = (row: SubmissionRow) => ({
    id: row.id,
    challengeId: row.challengeId,
    userId: row.userId,
    language: row.language,
    status: row.status,
    verdict: row.verdict,
    score: row.score === null ? null : Number(row.score),
    maxScore: Number(row.maxScore),
    tests: (row.tests ?? []).map((test) =>
      // Hidden tests never stored more than this; the presenter makes sure all the same.
      test.hidden
        ? {
            index: test.index,
            hidden: true,
            verdict: test.verdict,
            timeMs: test.timeMs,
            memoryKb: test.memoryKb,
          }
        : {
            index: test.index,
            hidden: false,
            verdict: test.verdict,
            timeMs: test.timeMs,
            memoryKb: test.memoryKb,
            ...(test.stdout === undefined ? {} : { stdout: test.stdout }),
            ...(test.difference ? { difference: test.difference } : {}),
          },
    ),
    ...(row.compileOutput === null ? {} : { compileOutput: row.compileOutput }),
    ...(row.feedback ? { feedback: row.feedback } : {}),
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  });

  const visible = async (principal: Principal, row: SubmissionRow | undefined) => {
    if (!row) return false;
    if (row.userId === principal.userId || principal.role === 'admin') return true;
    return isStaff(principal) && deps.challenges.manages(principal, row.challengeId);
  };

  return {
    present,

    async create(
      principal: Principal,
      input: { challengeId: string; language: string; source: string; attemptId?: string },
    ) {
      if (input.attemptId !== undefined)
        throw validationFailed([
          {
            path: 'body.attemptId',
            message:
              'a quiz’s code answer is saved with POST /attempts/{id}/answers and judged when the attempt is submitted',
          },
        ]);
      const challenge = await deps.challenges.find(input.challengeId);
      if (!challenge)
        throw validationFailed([{ path: 'body.challengeId', message: 'no such challenge' }]);
      if (!challenge.languages.includes(input.language))
        throw validationFailed([
          {
            path: 'body.language',
            message: `this challenge takes ${challenge.languages.join(', ')}`,
          },
        ]);
      if (challenge.testCount === 0)
        throw challengeHasNoTests(
          'This challenge has no test cases yet: nothing to judge against.',
        );
      const { row, dispatch } = await deps.db.transaction(async (tx) => {
        const inserted = await repository.insert(tx, {
          id: randomUUID(),
          challengeId: challenge.id,
          userId: principal.userId,
          language: input.language,
          source: input.source,
          status: 'queued',
          maxScore: String(challenge.points),
          createdAt: clock.now(),
        });
        return { row: inserted, dispatch: await deps.enqueueJudge(tx, inserted.id) };
      });
      // After the commit: a lost enqueue is found again by the sweeper.
      await dispatch();
      await publish({ submissionId: row.id, userId: row.userId, status: 'queued' });
      return { id: row.id, status: row.status };
    },

    /**
     * For attempts, read before their transaction (the embedded database has one connection):
     * each challenge's languages and points, or null if it is gone.
     */
    async challengesOf(challengeIds: readonly string[]) {
      const found = new Map<string, { languages: readonly string[]; points: number } | null>();
      for (const id of new Set(challengeIds)) {
        const challenge = await deps.challenges.find(id);
        found.set(
          id,
          challenge ? { languages: challenge.languages, points: challenge.points } : null,
        );
      }
      return found;
    },

    /** A quiz's code answer as a submission, in the attempt's transaction. */
    async submitInTransaction(tx: Transaction, input: CodeAnswerSubmission) {
      const inserted = await repository.insert(tx, {
        id: randomUUID(),
        challengeId: input.challengeId,
        userId: input.userId,
        language: input.language,
        source: input.source,
        attemptId: input.attemptId,
        questionId: input.questionId,
        status: 'queued',
        maxScore: String(input.maxScore),
        createdAt: clock.now(),
      });
      return { submissionId: inserted.id, dispatch: await deps.enqueueJudge(tx, inserted.id) };
    },

    async get(principal: Principal, id: string) {
      const row = await repository.find(id);
      if (!row || !(await visible(principal, row))) throw submissionNotFound();
      return present(row);
    },

    /** The row, for the events stream's access check and first snapshot. */
    async visibleRow(principal: Principal, id: string) {
      const row = await repository.find(id);
      if (!row || !(await visible(principal, row))) throw submissionNotFound();
      return row;
    },

    async list(
      principal: Principal,
      options: { challengeId?: string; mine?: boolean; limit: number; cursor?: string },
    ) {
      const before = decodeCursor(options.cursor, cursorSchema);
      const own = !isStaff(principal) || options.mine === true;
      // An instructor sees submissions to the challenges they manage (all of them when none is
      // named); their own with mine=true.
      let managed: string[] | undefined;
      if (!own && principal.role !== 'admin') {
        if (!options.challengeId) managed = await deps.challenges.idsManagedBy(principal);
        else if (!(await deps.challenges.manages(principal, options.challengeId)))
          throw forbidden('Only the challenge’s author or an admin sees its submissions.');
      }
      const rows = await repository.list(
        {
          ...(own ? { userId: principal.userId } : {}),
          ...(managed ? { challengeIds: managed } : {}),
          ...(options.challengeId ? { challengeId: options.challengeId } : {}),
          ...(before ? { before: { createdAt: new Date(before.createdAt), id: before.id } } : {}),
        },
        options.limit + 1,
      );
      return toPage(rows, options.limit, present, (row) => ({
        createdAt: row.createdAt.toISOString(),
        id: row.id,
      }));
    },

    /**
     * Best results per (challenge, user) for leaderboards, from completed submissions made to
     * the challenge itself, in pages ordered by (challenge, user): pass the last one as `after`.
     */
    bestResults: (filter: {
      userId?: string;
      after?: { challengeId: string; userId: string };
      limit: number;
    }): Promise<SubmissionBest[]> => repository.bestResults(filter),

    /** Aggregates for analytics, computed in the database; callers decide who may see them. */
    statistics,

    /** Staff analytics of one challenge (its author's or an admin's). */
    async challengeStats(principal: Principal, challengeId: string) {
      const challenge = await deps.challenges.find(challengeId, { includeDeleted: true });
      if (!challenge || (challenge.deleted && principal.role !== 'admin'))
        throw challengeNotFound();
      // Anyone signed in reads a live challenge, so its existence is no secret: 403, not 404.
      if (principal.role !== 'admin' && !(await deps.challenges.manages(principal, challengeId)))
        throw forbidden('Only the challenge’s author or an admin sees its analytics.');
      const stats = await repository.challengeStats(challengeId);
      const total = stats.byVerdict.reduce((sum, row) => sum + row.count, 0);
      const judged = stats.byVerdict
        .filter((row) => !['queued', 'running'].includes(row.verdict))
        .reduce((sum, row) => sum + row.count, 0);
      const accepted = stats.byVerdict.find((row) => row.verdict === 'accepted')?.count ?? 0;
      return {
        challengeId,
        submissions: total,
        judged,
        byVerdict: Object.fromEntries(stats.byVerdict.map((row) => [row.verdict, row.count])),
        byLanguage: stats.byLanguage.map((row) => ({
          language: row.language,
          submissions: row.submissions,
          accepted: row.accepted,
          acceptanceRate: row.submissions === 0 ? 0 : row.accepted / row.submissions,
        })),
        acceptanceRate: judged === 0 ? null : accepted / judged,
        users: stats.users,
        usersAccepted: stats.usersAccepted,
        medianSecondsToFirstAccept: stats.medianSecondsToFirstAccept,
      };
    },

    abandon,

    /**
     * The queue gave up delivering the judge job (its last delivery threw). The row decides:
     * only a submission whose tries are spent is abandoned. Deliveries that failed before
     * claiming (the database was away) judged nothing, so the sweeper offers it again.
     */
    async giveUp(submissionId: string, reason: string) {
      const row = await repository.find(submissionId);
      if (!row || row.tries < JUDGE_ATTEMPTS) return;
      await abandon(submissionId, reason);
    },

    /**
     * What the sweeper should hand to the broker again (the submission row is the judge job's
     * record): waiting longer than `graceMs`, or held by a judge whose lease ran out. A row
     * past its last try plus two (even its failure could not be written) is left alone.
     */
    async stranded(graceMs: number, limit: number) {
      return repository.stranded({ graceMs, limit, maxTries: JUDGE_ATTEMPTS + 2 });
    },

    /** The judge queue's depth, which lives in the submissions (owner-kept jobs have no ledger row). */
    async backlog() {
      return repository.backlog();
    },

    /**
     * The `submissions.judge` job: claim the submission under a lease, compile once, run every
     * test, check, and write the outcome only while the claim holds (so a second delivery, or
     * a judge that died and came back, writes nothing twice). Infrastructure failures throw to
     * retry; the last try records `internal_error`.
     */
    async judge(options: { submissionId: string; leaseMs: number; logger: Logger }) {
      const { submissionId, logger } = options;
      const holder = randomUUID();
      const row = await repository.claim({
        id: submissionId,
        holder,
        leaseMs: options.leaseMs,
        now: clock.now(),
      });
      if (!row) {
        logger.info({ submissionId }, 'submission judged already, or held by another judge');
        return;
      }
      let settled = false;
      const heartbeat = setInterval(
        () => {
          repository.extendLease(submissionId, holder, options.leaseMs).then(
            (held) => {
              if (!held && !settled)
                logger.warn({ submissionId }, 'judge lost its claim; another judge took over');
            },
            (error: unknown) => logger.warn({ err: error, submissionId }, 'lease heartbeat failed'),
          );
        },
        Math.max(50, Math.floor(options.leaseMs / 3)),
      );
      heartbeat.unref();
      const stopHeartbeat = () => {
        settled = true;
        clearInterval(heartbeat);
      };
      try {
        await judgeClaimed(row, holder, logger, stopHeartbeat);
      } catch (error) {
        stopHeartbeat();
        // This try is over: the retry may claim the submission at once.
        await repository
          .release(submissionId, holder)
          .catch((releaseError: unknown) =>
            logger.warn({ err: releaseError, submissionId }, 'could not release the claim'),
          );
        throw error;
      } finally {
        stopHeartbeat();
      }
    },
  };
}

export type SubmissionsService = ReturnType<typeof createSubmissionsService>;
