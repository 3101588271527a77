import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Executor, Transaction } from '../../platform/db/database.ts';
import { createErrorFactory, validationFailed } from '../../platform/errors/errors.ts';
import type { Principal } from '../../platform/http/access.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import { presentForStudent, type QuestionsService } from '../questions/questions.service.ts';
import type { QuestionRow } from '../questions/questions.tables.ts';
import type { QuizVisibility, QuizzesRepository } from './quizzes.repository.ts';
import type { CreateQuizBody, PatchQuizBody } from './quizzes.schemas.ts';
import type { QuizRow } from './quizzes.tables.ts';

export const quizNotFound = createErrorFactory({
  code: 'QUIZ_NOT_FOUND',
  status: 404,
  title: 'Quiz not found',
});
export const notQuizOwner = createErrorFactory({
  code: 'FORBIDDEN',
  status: 403,
  title: 'Only the quiz’s author or an admin may change it',
});
export const quizHasAttempts = createErrorFactory({
  code: 'QUIZ_HAS_ATTEMPTS',
  status: 409,
  title: 'The quiz has attempts',
});
export const quizArchived = createErrorFactory({
  code: 'QUIZ_ARCHIVED',
  status: 409,
  title: 'The quiz is archived',
});

const isStaff = (principal: Principal) =>
  principal.role === 'admin' || principal.role === 'instructor';
const cursorSchema = z.object({ createdAt: z.iso.datetime(), id: z.string() });
const num = (value: string | null) => (value === null ? null : Number(value));

/** Staff see how the quiz is made; students only see what they need to decide to take it. */
function present(row: QuizRow, forStaff: boolean, paper?: QuestionRow[]) {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    status: row.status,
    durationMinutes: num(row.durationMinutes),
    opensAt: row.opensAt?.toISOString() ?? null,
    closesAt: row.closesAt?.toISOString() ?? null,
    maxAttempts: row.maxAttempts,
    shuffleQuestions: row.shuffleQuestions,
    shuffleOptions: row.shuffleOptions,
    passMark: num(row.passMark),
    negativeMarking: num(row.negativeMarking),
    reviewPolicy: row.reviewPolicy,
    maxFocusLosses: row.maxFocusLosses,
    focusLossAction: row.focusLossAction,
    hideLeaderboard: row.hideLeaderboard,
    hasAttempts: row.firstAttemptAt !== null,
    ...(forStaff && row.questions ? { questions: row.questions } : {}),
    ...(forStaff && row.pool ? { pool: row.pool } : {}),
    ...(paper ? { paper: paper.map(presentForStudent) } : {}),
    questionCount: row.questions?.length ?? row.pool?.count ?? 0,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    publishedAt: row.publishedAt?.toISOString() ?? null,
  };
}

/** What an attempt needs of a quiz: its settings and the rows of every question it can show. */
export type QuizPaper = { quiz: QuizRow; questions: Map<string, QuestionRow> };

export function createQuizzesService(deps: {
  repository: QuizzesRepository;
  questions: QuestionsService;
  clock: Clock;
  /** Told after a quiz changes, so caches of it can drop it. */
  onChange?: (id: string) => void;
  /** Queues the "quiz published" notices in the publishing transaction; returns its dispatch. */
  announce?: (tx: Transaction, quizId: string) => Promise<() => Promise<void>>;
}) {
  const { repository } = deps;
  const changed = (id: string) => deps.onChange?.(id);
  const questionRowsOf = async (row: QuizRow) =>
    row.questions
      ? deps.questions.rowsByIds(row.questions.map((item) => item.questionId))
      : row.pool
        ? deps.questions.poolRows(row.pool)
        : [];

  /** Checks what the fields say together: a window that closes after it opens, questions that exist. */
  const checkContent = async (merged: {
    opensAt: Date | null;
    closesAt: Date | null;
    questions: CreateQuizBody['questions'] | null;
    pool: CreateQuizBody['pool'] | null;
  }) => {
    const problems: Array<{ path: string; message: string }> = [];
    if (merged.opensAt && merged.closesAt && merged.opensAt >= merged.closesAt) {
      problems.push({ path: 'body.closesAt', message: 'must be after opensAt' });
    }
    if ((merged.questions ? 1 : 0) + (merged.pool ? 1 : 0) !== 1) {
      problems.push({ path: 'body', message: 'give either questions or pool' });
    }
    if (merged.questions) {
      const ids = merged.questions.map((item) => item.questionId);
      ids.forEach((id, index) => {
        if (ids.indexOf(id) !== index)
          problems.push({
            path: `body.questions[${index}].questionId`,
            message: 'is listed twice',
          });
      });
      const missing = new Set(await deps.questions.missing(ids));
      ids.forEach((id, index) => {
        if (missing.has(id))
          problems.push({
            path: `body.questions[${index}].questionId`,
            message: 'no such question',
          });
      });
    }
    if (merged.pool) {
      const available = await deps.questions.countMatching(merged.pool);
      if (available < merged.pool.count) {
        problems.push({
          path: 'body.pool.count',
          message: `only ${available} questions match this pool`,
        });
      }
    }
    if (problems.length > 0) throw validationFailed(problems, 'The quiz does not hold together.');
  };

  const load = async (id: string) => {
    const row = await repository.findLive(id);
    if (!row) throw quizNotFound();
    return row;
  };

  const loadOwned = async (principal: Principal, id: string) => {
    const row = await load(id);
    if (principal.role !== 'admin' && row.createdBy !== principal.userId) throw notQuizOwner();
    return row;
  };

  const date = (value: string | null | undefined) => (value ? new Date(value) : null);

  return {
    async create(principal: Principal, input: CreateQuizBody) {
      const opensAt = date(input.opensAt);
      const closesAt = date(input.closesAt);
      await checkContent({
        opensAt,
        closesAt,
        questions: input.questions ?? null,
        pool: input.pool ?? null,
      });
      const at = deps.clock.now();
      const row = await repository.insert({
        id: randomUUID(),
        title: input.title,
        description: input.description ?? '',
        durationMinutes: input.durationMinutes == null ? null : String(input.durationMinutes),
        opensAt,
        closesAt,
        maxAttempts: input.maxAttempts ?? 1,
        shuffleQuestions: input.shuffleQuestions ?? false,
        shuffleOptions: input.shuffleOptions ?? false,
        passMark: input.passMark == null ? null : String(input.passMark),
        negativeMarking: input.negativeMarking == null ? null : String(input.negativeMarking),
        reviewPolicy: input.reviewPolicy ?? 'after_submit',
        maxFocusLosses: input.maxFocusLosses ?? null,
        focusLossAction: input.focusLossAction ?? 'flag',
        hideLeaderboard: input.hideLeaderboard ?? false,
        questions: input.questions ?? null,
        pool: input.pool ?? null,
        createdBy: principal.userId,
        createdAt: at,
        updatedAt: at,
      });
      return present(row, true);
    },

    async list(
      principal: Principal,
      input: { status?: QuizRow['status']; limit: number; cursor?: string },
    ) {
      const after = decodeCursor(input.cursor, cursorSchema);
      const visibility: QuizVisibility = !isStaff(principal)
        ? { kind: 'open', now: deps.clock.now() }
        : principal.role === 'instructor'
          ? { kind: 'author', userId: principal.userId }
          : { kind: 'all' };
      const rows = await repository.list({
        visibility,
        limit: input.limit + 1,
        ...(input.status ? { status: input.status } : {}),
        ...(after ? { after: { createdAt: new Date(after.createdAt), id: after.id } } : {}),
      });
      return toPage(
        rows,
        input.limit,
        (row) => present(row, isStaff(principal)),
        (row) => ({
          createdAt: row.createdAt.toISOString(),
          id: row.id,
        }),
      );
    },

    async get(principal: Principal, id: string) {
      const row = await load(id);
      if (isStaff(principal)) return present(row, true);
      // A quiz a student may not take is, to them, not there.
      const visible = await repository.findLive(id, { kind: 'open', now: deps.clock.now() });
      if (!visible) throw quizNotFound();
      // An untimed quiz with a fixed list is answered in one go, so its questions are shown.
      if (row.durationMinutes === null && row.questions) {
        const byId = new Map(
          (await questionRowsOf(row)).map((question) => [question.id, question]),
        );
        const paper = row.questions.flatMap((item) => {
          const question = byId.get(item.questionId);
          return question ? [{ ...question, points: String(item.points ?? question.points) }] : [];
        });
        return present(row, false, paper);
      }
      return present(row, false);
    },

    async patch(principal: Principal, id: string, input: PatchQuizBody) {
      const row = await loadOwned(principal, id);
      if (row.status === 'archived') throw quizArchived('Archived quizzes cannot change.');
      const opensAt = input.opensAt === undefined ? row.opensAt : date(input.opensAt);
      const closesAt = input.closesAt === undefined ? row.closesAt : date(input.closesAt);
      const questions = input.questions ?? (input.pool ? null : row.questions);
      const pool = input.pool ?? (input.questions ? null : row.pool);
      const contentChanges = input.questions !== undefined || input.pool !== undefined;
      if (contentChanges && row.firstAttemptAt)
        throw quizHasAttempts('Its questions cannot change once someone has started it.');
      await checkContent({ opensAt, closesAt, questions, pool });
      const updated = await repository.update(
        id,
        {
          ...(input.title !== undefined ? { title: input.title } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          ...(input.durationMinutes !== undefined
            ? {
                durationMinutes:
                  input.durationMinutes === null ? null : String(input.durationMinutes),
              }
            : {}),
          opensAt,
          closesAt,
          ...(input.maxAttempts !== undefined ? { maxAttempts: input.maxAttempts } : {}),
          ...(input.shuffleQuestions !== undefined
            ? { shuffleQuestions: input.shuffleQuestions }
            : {}),
          ...(input.shuffleOptions !== undefined ? { shuffleOptions: input.shuffleOptions } : {}),
          ...(input.passMark !== undefined
            ? { passMark: input.passMark === null ? null : String(input.passMark) }
            : {}),
          ...(input.negativeMarking !== undefined
            ? {
                negativeMarking:
                  input.negativeMarking === null ? null : String(input.negativeMarking),
              }
            : {}),
          ...(input.reviewPolicy !== undefined ? { reviewPolicy: input.reviewPolicy } : {}),
          ...(input.maxFocusLosses !== undefined ? { maxFocusLosses: input.maxFocusLosses } : {}),
          ...(input.focusLossAction !== undefined
            ? { focusLossAction: input.focusLossAction }
            : {}),
          ...(input.hideLeaderboard !== undefined
            ? { hideLeaderboard: input.hideLeaderboard }
            : {}),
          ...(input.status === 'archived' ? { status: 'archived' as const } : {}),
          questions,
          pool,
          updatedAt: deps.clock.now(),
        },
        { contentFrozenAfterAttempts: contentChanges },
      );
      if (!updated) {
        // Lost the race against a first attempt, or the quiz went away meanwhile.
        if ((await repository.findLive(id))?.firstAttemptAt)
          throw quizHasAttempts('Its questions cannot change once someone has started it.');
        throw quizNotFound();
      }
      changed(id);
      return present(updated, true);
    },

    async publish(principal: Principal, id: string) {
      const row = await loadOwned(principal, id);
      if (row.status === 'archived')
        throw quizArchived('Archived quizzes cannot be published again.');
      if (row.status === 'published') return present(row, true);
      const at = deps.clock.now();
      const { updated, dispatch } = await repository.transaction(async (tx) => {
        const updated = await repository.publish(tx, id, at);
        // Only the publish that changed the status announces; a repeat publish does not.
        const dispatch = updated && deps.announce ? await deps.announce(tx, id) : undefined;
        return { updated, dispatch };
      });
      await dispatch?.();
      changed(id);
      return present(updated ?? (await load(id)), true);
    },

    async remove(principal: Principal, id: string) {
      await loadOwned(principal, id);
      await repository.softDelete(id, deps.clock.now());
      changed(id);
    },

    /** The quiz (even if deleted since) and its question rows, for attempts. */
    async paper(id: string): Promise<QuizPaper | undefined> {
      const quiz = await repository.find(id);
      if (!quiz) return undefined;
      const rows = await questionRowsOf(quiz);
      return { quiz, questions: new Map(rows.map((row) => [row.id, row])) };
    },

    /** The quiz row as stored now (deleted or not), for decisions that must not use a cache. */
    async settings(id: string): Promise<QuizRow | undefined> {
      return repository.find(id);
    },

    /** `settings` of many quizzes in one query (deleted ones too), by id. */
    async settingsMany(ids: readonly string[]): Promise<Map<string, QuizRow>> {
      const rows = await repository.findMany([...new Set(ids)]);
      return new Map(rows.map((row) => [row.id, row]));
    },

    /**
     * What a notice about one of its attempts says of the quiz (deleted or not), read with the
     * caller's executor: the landing transaction of a result cannot wait for another connection.
     */
    async quizFacts(executor: Executor, id: string) {
      const row = await repository.find(id, executor);
      return row ? { title: row.title, reviewPolicy: row.reviewPolicy } : undefined;
    },

    /** What a "quiz published" notice says, while the quiz is still published. */
    async announcement(id: string) {
      const row = await repository.findLive(id);
      if (row?.status !== 'published') return undefined;
      return present(row, false);
    },

    /**
     * Freezes the quiz's questions: called in the transaction that creates an attempt. Returns
     * the quiz's `updatedAt` the first time, so the caller can check it worked from that version.
     */
    async markTaken(executor: Executor, id: string): Promise<Date | undefined> {
      return repository.markTaken(executor, id, deps.clock.now());
    },

    /** Whether this principal manages the quiz (its author, or an admin). */
    async manages(principal: Principal, quizId: string): Promise<boolean> {
      if (principal.role === 'admin') return true;
      if (principal.role !== 'instructor') return false;
      const row = await repository.findLive(quizId);
      return row?.createdBy === principal.userId;
    },

    /** What leaderboards need to know of these quizzes (deleted ones too), as stored now. */
    async boardFacts(ids: readonly string[]) {
      const rows = await repository.findMany(ids);
      return new Map(
        rows.map((row) => [
          row.id,
          {
            status: row.status,
            deleted: row.deletedAt !== null,
            hideLeaderboard: row.hideLeaderboard,
          },
        ]),
      );
    },

    /** Live quizzes by status, every status present (analytics). */
    async countByStatus(): Promise<Record<QuizRow['status'], number>> {
      const counts: Record<QuizRow['status'], number> = { draft: 0, published: 0, archived: 0 };
      for (const row of await repository.countByStatus()) counts[row.status] = row.count;
      return counts;
    },

    /** Ids of quizzes this instructor wrote (deleted ones too: their records stay theirs). */
    async idsAuthoredBy(userId: string): Promise<string[]> {
      return repository.idsAuthoredBy(userId);
    },
  };
}

export type QuizzesService = ReturnType<typeof createQuizzesService>;
