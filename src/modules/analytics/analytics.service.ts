import type { Clock } from '../../platform/clock/clock.ts';
import type { Principal } from '../../platform/http/access.ts';
import { reviewAllowed } from '../attempts/attempts.models.ts';
import type { AttemptsService } from '../attempts/attempts.service.ts';
import type {
  AttemptSelection,
  QuestionAggregates,
  QuizAggregates,
} from '../attempts/attempts.statistics.ts';
import type { AuthService } from '../auth/auth.service.ts';
import type { QuestionBody } from '../questions/questions.models.ts';
import type { QuestionsService } from '../questions/questions.service.ts';
import type { QuestionRow } from '../questions/questions.tables.ts';
import { type QuizPaper, type QuizzesService, quizNotFound } from '../quizzes/quizzes.service.ts';
import type { QuizRow } from '../quizzes/quizzes.tables.ts';
import type { SubmissionsService } from '../submissions/submissions.service.ts';
import { userNotFound } from '../users/users.errors.ts';
import type { UsersService } from '../users/users.service.ts';
import { accuracyByTag, localDate, streaks, trend } from './analytics.models.ts';
import type { QuizReport } from './analytics.schemas.ts';
import { histogram, itemStatistics, scoreStatistics } from './analytics.stats.ts';

const DAY_MS = 86_400_000;
/** How far back active days are read for streaks. */
const STREAK_HISTORY_DAYS = 3_660;
const CHOICE_TYPES = new Set(['single_choice', 'multiple_choice', 'true_false']);
const isStaff = (principal: Principal) =>
  principal.role === 'admin' || principal.role === 'instructor';

const NOBODY: Omit<QuestionAggregates, 'questionId'> = {
  n: 0,
  maxMark: null,
  meanFraction: null,
  varFraction: null,
  meanMark: null,
  meanRest: null,
  varMark: null,
  varRest: null,
  covariance: null,
  covarianceMax: null,
};

/** The options a question offers, as its pick rates name them (staff see which are keys). */
function optionsOf(body: QuestionBody | undefined) {
  if (!body) return null;
  if (body.type === 'true_false')
    return [
      { id: 'true', text: 'True', correct: body.correct },
      { id: 'false', text: 'False', correct: !body.correct },
    ];
  if (body.type === 'single_choice' || body.type === 'multiple_choice')
    return body.options.map((option) => ({
      id: option.id,
      text: option.text,
      correct: option.correct === true || (option.weight ?? 0) > 0,
    }));
  return null;
}

export function createAnalyticsService(deps: {
  attempts: Pick<AttemptsService, 'statistics'>;
  submissions: Pick<SubmissionsService, 'statistics'>;
  quizzes: Pick<
    QuizzesService,
    'manages' | 'settings' | 'settingsMany' | 'paper' | 'countByStatus'
  >;
  questions: Pick<QuestionsService, 'rowsByIds' | 'countMatching'>;
  users: Pick<UsersService, 'get' | 'countByRole'>;
  auth: Pick<AuthService, 'activeUsersSince'>;
  /** Jobs waiting or running, per queue and status (the job ledger's). */
  queueDepth: () => Promise<Array<{ queue: string; status: string; count: number }>>;
  clock: Clock;
}) {
  const { attempts, clock } = deps;

  /** The questions of a report, in the quiz's order; pool questions as far as anyone saw them. */
  const questionsOf = async (
    quiz: QuizRow,
    paper: QuizPaper | undefined,
    aggregates: QuizAggregates,
  ) => {
    const rows = new Map(paper?.questions ?? []);
    const seen = aggregates.questions.map((question) => question.questionId);
    const missing = seen.filter((id) => !rows.has(id));
    // Questions since deleted (or moved out of a pool) still have their rows.
    for (const row of await deps.questions.rowsByIds(missing)) rows.set(row.id, row);
    const listed = quiz.questions?.map((ref) => ref.questionId) ?? [];
    const order = [...new Set([...listed, ...seen])];
    const points = new Map(quiz.questions?.map((ref) => [ref.questionId, ref.points]) ?? []);
    return order.map((id) => ({
      id,
      row: rows.get(id),
      position: quiz.questions ? listed.indexOf(id) + 1 || null : null,
      listedPoints: points.get(id) ?? (rows.get(id) ? Number(rows.get(id)?.points) : null),
    }));
  };

  const presentQuestion = (
    question: {
      id: string;
      row: QuestionRow | undefined;
      position: number | null;
      listedPoints: number | null;
    },
    aggregates: QuizAggregates,
  ) => {
    const found = aggregates.questions.find((item) => item.questionId === question.id);
    const item = found ?? { questionId: question.id, ...NOBODY };
    const stats = itemStatistics(item);
    const body = question.row?.body as QuestionBody | undefined;
    const picks = new Map(
      aggregates.picks
        .filter((pick) => pick.questionId === question.id)
        .map((pick) => [pick.optionId, pick.count]),
    );
    const options = optionsOf(body)?.map((option) => {
      const count = picks.get(option.id) ?? 0;
      return { ...option, picks: count, rate: item.n > 0 ? count / item.n : null };
    });
    return {
      questionId: question.id,
      position: question.position,
      name: question.row?.name ?? null,
      type: question.row?.type ?? null,
      prompt: question.row?.prompt ?? null,
      tags: question.row?.tags ?? [],
      maxMark: item.maxMark ?? question.listedPoints,
      attempts: item.n,
      answered: aggregates.answered.find((row) => row.questionId === question.id)?.count ?? 0,
      ...stats,
      options: options ?? null,
    };
  };

  return {
    /** The quiz report (staff who manage the quiz); to anyone else the quiz does not exist. */
    async quizReport(
      principal: Principal,
      quizId: string,
      selection: AttemptSelection,
    ): Promise<QuizReport> {
      const quiz = await deps.quizzes.settings(quizId);
      if (!quiz || quiz.deletedAt || !(await deps.quizzes.manages(principal, quizId)))
        throw quizNotFound();
      // The question rows are read before the statement (pick rates need their types).
      const paper = await deps.quizzes.paper(quizId);
      const choiceQuestionIds = [...(paper?.questions.values() ?? [])]
        .filter((row) => CHOICE_TYPES.has(row.type))
        .map((row) => row.id);
      const aggregates = await attempts.statistics.quizAggregates({
        quizId,
        selection,
        choiceQuestionIds,
      });
      const questions = await questionsOf(quiz, paper, aggregates);
      const counts = aggregates.attempts;
      const scores = scoreStatistics(aggregates.scores);
      return {
        quizId,
        title: quiz.title,
        attemptsCounted: selection,
        participants: counts.participants,
        attempts: {
          started: counts.started,
          inProgress: counts.active,
          grading: counts.grading,
          finished: counts.finished,
          submittedByStudent: counts.endedByStudent,
          closedByTimer: counts.endedByTimer,
          closedByFocusLimit: counts.endedByFocusLimit,
          counted: aggregates.scores.n,
        },
        completionRate: counts.started > 0 ? counts.endedByStudent / counts.started : null,
        averageSeconds: aggregates.scores.averageSeconds,
        score: { ...scores, min: aggregates.scores.min, max: aggregates.scores.max },
        histogram: histogram(aggregates.histogram),
        questions: questions.map((question) => presentQuestion(question, aggregates)),
      };
    },

    /** A user's analytics: their own, or anyone's for staff; to other students no such user. */
    async user(
      principal: Principal,
      userId: string,
      options: { timeZone: string; recent: number },
    ) {
      if (principal.userId !== userId && !isStaff(principal)) throw userNotFound();
      const user = await deps.users.get(userId);
      const now = clock.now();
      const since = new Date(now.getTime() - STREAK_HISTORY_DAYS * DAY_MS);
      // Per-question marks stay hidden from a student where their quiz hides the review.
      let quizIds: string[] | undefined;
      if (principal.userId === userId && !isStaff(principal)) {
        const taken = await attempts.statistics.finishedQuizIds(userId);
        // One query however many quizzes they took.
        const settings = await deps.quizzes.settingsMany(taken);
        quizIds = [...settings.values()].flatMap((quiz) =>
          reviewAllowed(quiz.reviewPolicy, quiz, now) ? [quiz.id] : [],
        );
      }
      const [summary, records, quizDays, codeDays, recent, code] = await Promise.all([
        attempts.statistics.userSummary(userId),
        attempts.statistics.userQuestionRecords(userId, quizIds),
        attempts.statistics.activeDays(userId, options.timeZone, since),
        deps.submissions.statistics.activeDays(userId, options.timeZone, since),
        attempts.statistics.recentResults(userId, options.recent),
        deps.submissions.statistics.userSummary(userId),
      ]);
      const rows = await deps.questions.rowsByIds(records.map((record) => record.questionId));
      const tags = new Map(rows.map((row) => [row.id, row.tags]));
      const recentQuizzes = await deps.quizzes.settingsMany(recent.map((result) => result.quizId));
      const titles = new Map([...recentQuizzes].map(([id, quiz]) => [id, quiz.title]));
      const results = [...recent].reverse().map((result) => ({
        attemptId: result.attemptId,
        quizId: result.quizId,
        quizTitle: titles.get(result.quizId) ?? null,
        finishedAt: result.finishedAt.toISOString(),
        percentage: result.maxScore > 0 ? (100 * result.score) / result.maxScore : 0,
      }));
      const days = streaks([...quizDays, ...codeDays], localDate(now, options.timeZone));
      return {
        user: { id: user.id, name: user.name, role: user.role },
        timeZone: options.timeZone,
        quizzesTaken: summary.quizzes,
        attempts: summary.attempts,
        averageScore: summary.averagePercentage,
        accuracyByTag: accuracyByTag(records, tags),
        streak: days.current,
        longestStreak: days.longest,
        lastActiveDay: days.lastActiveDay,
        activeDays: days.activeDays,
        recentTrend: { results, ...trend(results.map((result) => result.percentage)) },
        challenges: {
          submissions: code.submissions,
          tried: code.challengesTried,
          solved: code.challengesSolved,
        },
      };
    },

    /** Platform totals (admins). */
    async overview() {
      const now = clock.now();
      const week = new Date(now.getTime() - 7 * DAY_MS);
      const month = new Date(now.getTime() - 30 * DAY_MS);
      const [byRole, active, quizzes, questions, attemptTotals, verdicts, depth] =
        await Promise.all([
          deps.users.countByRole(),
          deps.auth.activeUsersSince([week, month]),
          deps.quizzes.countByStatus(),
          deps.questions.countMatching({}),
          attempts.statistics.totals([week, month]),
          deps.submissions.statistics.byVerdict(),
          deps.queueDepth(),
        ]);
      const sum = (values: Record<string, number>) =>
        Object.values(values).reduce((total, value) => total + value, 0);
      const queues = new Map<string, { queue: string; pending: number; running: number }>();
      for (const row of depth) {
        const entry = queues.get(row.queue) ?? { queue: row.queue, pending: 0, running: 0 };
        if (row.status === 'pending') entry.pending += row.count;
        if (row.status === 'running') entry.running += row.count;
        queues.set(row.queue, entry);
      }
      const byQueue = [...queues.values()].sort((a, b) => (a.queue < b.queue ? -1 : 1));
      return {
        users: {
          total: sum(byRole),
          byRole,
          activeLast7Days: active[0] ?? 0,
          activeLast30Days: active[1] ?? 0,
        },
        quizzes: { total: sum(quizzes), byStatus: quizzes },
        questions: { total: questions },
        attempts: {
          total: sum(attemptTotals.byStatus),
          byStatus: attemptTotals.byStatus,
          startedLast7Days: attemptTotals.startedSince[0] ?? 0,
          startedLast30Days: attemptTotals.startedSince[1] ?? 0,
        },
        submissions: { total: sum(verdicts), byVerdict: verdicts },
        queue: {
          backlog: byQueue.reduce((total, row) => total + row.pending + row.running, 0),
          byQueue,
        },
        generatedAt: now.toISOString(),
      };
    },
  };
}

export type AnalyticsService = ReturnType<typeof createAnalyticsService>;
