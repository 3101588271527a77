import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Database, Transaction } from '../../platform/db/database.ts';
import { conflict, validationFailed } from '../../platform/errors/errors.ts';
import type { Principal } from '../../platform/http/access.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import type { AttendanceService } from '../attendance/attendance.service.ts';
import type { QuestionBody } from '../questions/questions.models.ts';
import type { QuestionsService } from '../questions/questions.service.ts';
import type { QuestionRow } from '../questions/questions.tables.ts';
import { type QuizPaper, type QuizzesService, quizNotFound } from '../quizzes/quizzes.service.ts';
import {
  attemptActive,
  attemptExpired,
  attemptNotFound,
  attemptSubmitted,
  attemptsUsedUp,
  questionNotInAttempt,
  quizNeedsAttempt,
  quizNotOpen,
  quizNotPublished,
} from './attempts.errors.ts';
import {
  answerProblem,
  answerRecord,
  eventCounter,
  expiryOf,
  FOCUS_LOSS_EVENTS,
  isOverdue,
  layOut,
  type PaperQuestion,
  reviewAllowed,
} from './attempts.models.ts';
import { presentAttempt, presentResult, presentStaffExtras } from './attempts.presenter.ts';
import type { AttemptBest, AttemptsRepository, Finalization } from './attempts.repository.ts';
import { type Answer, scoreAnswer } from './attempts.scoring.ts';
import { createAttemptStatistics } from './attempts.statistics.ts';
import type { AttemptRow, QuestionOutcome } from './attempts.tables.ts';

const PAPER_TTL_MS = 2_000;
const MAX_STORED_EVENTS = 1_000;
const cursorSchema = z.object({ startedAt: z.iso.datetime(), id: z.string() });
const num = (value: string | null) => (value === null ? null : Number(value));

/** What attempts need of the judge: submissions made in the attempt's own transaction. */
export interface CodeJudging {
  /** The challenges' languages and points, read before the transaction (null: it is gone). */
  challengesOf(
    challengeIds: readonly string[],
  ): Promise<Map<string, { languages: readonly string[]; points: number } | null>>;
  /** Records a submission and its judge job in `tx`; the dispatch runs after the commit. */
  submit(
    tx: Transaction,
    input: CodeAnswerSubmission,
  ): Promise<{ submissionId: string; dispatch: () => Promise<void> }>;
}

/** A quiz's code answer, as the judge gets it. */
export type CodeAnswerSubmission = {
  challengeId: string;
  userId: string;
  language: string;
  source: string;
  attemptId: string;
  questionId: string;
  /** The challenge's points: the submission's maximum score. */
  maxScore: number;
};

export type { AttemptBest } from './attempts.repository.ts';

/** A result landed: an attempt became `graded` or `expired`, every code answer judged. */
export type AttemptResult = {
  attemptId: string;
  quizId: string;
  userId: string;
  status: 'graded' | 'expired';
  score: number;
  maxScore: number;
};

/** Runs after the commit of the transaction that produced it. */
export type AfterCommit = () => Promise<void>;

/** Raised inside a start transaction when the quiz changed under a cached copy. */
class StalePaper extends Error {}

type EndedBy = Finalization['endedBy'];

export function createAttemptsService(deps: {
  db: Database;
  repository: AttemptsRepository;
  quizzes: QuizzesService;
  questions: QuestionsService;
  attendance: AttendanceService;
  clock: Clock;
  logger: Logger;
  graceMs: number;
  /** Judging of code answers (the submissions module); without it they score 0. */
  code?: CodeJudging;
  /**
   * A result landed, in its transaction (work that must not be lost is recorded here); what it
   * returns runs after the commit (events, which may be lost and are reconciled).
   */
  onResult?: (tx: Transaction, result: AttemptResult) => Promise<AfterCommit | undefined>;
}) {
  const { repository, clock } = deps;
  const statistics = createAttemptStatistics(deps.db);

  // Exam day: thousands of starts of one quiz within a second. Its paper is read once per TTL.
  const papers = new Map<string, { until: number; paper: Promise<QuizPaper | undefined> }>();
  const paperOf = (quizId: string): Promise<QuizPaper | undefined> => {
    const now = clock.now().getTime();
    const hit = papers.get(quizId);
    if (hit && hit.until > now) return hit.paper;
    const paper = deps.quizzes.paper(quizId);
    papers.set(quizId, { until: now + PAPER_TTL_MS, paper });
    paper.catch(() => papers.delete(quizId));
    if (papers.size > 1_000) papers.clear();
    return paper;
  };
  const forgetPaper = (quizId?: string) => (quizId ? papers.delete(quizId) : papers.clear());
  // Quizzes this process has seen taken (first_attempt_at is never cleared).
  const taken = new Set<string>();
  const markedTaken = (quizId: string) => {
    if (taken.size >= 10_000) taken.clear();
    taken.add(quizId);
  };

  // An attempt's owner, quiz, layout and end never change: autosaves read them from memory.
  const known = new Map<string, AttemptRow>();
  const remember = (row: AttemptRow) => {
    if (known.size >= 20_000) known.delete(known.keys().next().value as string);
    known.set(row.id, row);
    return row;
  };
  const factsOf = async (id: string) =>
    known.get(id) ?? (await repository.find(id).then((row) => row && remember(row)));

  /** The question rows an attempt shows, including any that left the quiz's pool since. */
  const questionsOf = async (row: AttemptRow, paper: QuizPaper | undefined) => {
    const shown = paper?.questions ?? new Map<string, QuestionRow>();
    // Every autosave asks: one pass, and nothing built when the paper has them all.
    const missing: string[] = [];
    for (const slot of row.slots) if (!shown.has(slot.questionId)) missing.push(slot.questionId);
    if (missing.length === 0) return shown;
    const rows = new Map(shown);
    for (const question of await deps.questions.rowsByIds(missing)) rows.set(question.id, question);
    return rows;
  };

  const isStaff = (principal: Principal) =>
    principal.role === 'admin' || principal.role === 'instructor';

  const resultLanded = async (
    tx: Transaction,
    row: AttemptRow,
  ): Promise<AfterCommit | undefined> => {
    if (!deps.onResult || (row.status !== 'graded' && row.status !== 'expired')) return undefined;
    return deps.onResult(tx, {
      attemptId: row.id,
      quizId: row.quizId,
      userId: row.userId,
      status: row.status,
      score: Number(row.score ?? 0),
      maxScore: (row.outcomes ?? []).reduce((sum, outcome) => sum + outcome.max, 0),
    });
  };

  /** Whether the caller owns the attempt or manages its quiz; to anyone else it does not exist. */
  const visibility = async (principal: Principal, row: AttemptRow | undefined) => {
    if (!row) throw attemptNotFound();
    if (row.userId === principal.userId) return { row, asStaff: false };
    if (isStaff(principal) && (await deps.quizzes.manages(principal, row.quizId)))
      return { row, asStaff: true };
    throw attemptNotFound();
  };

  const loadVisible = async (principal: Principal, id: string) =>
    visibility(principal, await repository.find(id));

  const loadOwn = async (principal: Principal, id: string) => {
    const row = await factsOf(id);
    if (!row || row.userId !== principal.userId) throw attemptNotFound();
    return row;
  };

  /** Scores and closes an active attempt once; on a closed one it changes nothing. */
  const finalize = async (id: string, endedBy: EndedBy, flag?: string): Promise<AttemptRow> => {
    const facts = await factsOf(id);
    if (!facts) throw attemptNotFound();
    // Read outside the transaction: the embedded database has a single connection.
    const paper = await paperOf(facts.quizId);
    const questions = await questionsOf(facts, paper);
    const negativeMarking = num(paper?.quiz.negativeMarking ?? null) ?? 0;
    const challengeIds = facts.slots.flatMap((slot) => {
      const body = questions.get(slot.questionId)?.body as QuestionBody | undefined;
      return body?.type === 'code' ? [body.challengeId] : [];
    });
    const challenges =
      challengeIds.length > 0 && deps.code
        ? await deps.code.challengesOf(challengeIds)
        : new Map<string, { languages: readonly string[]; points: number } | null>();
    const dispatches: Array<() => Promise<void>> = [];
    const closed = await deps.db.transaction(async (tx) => {
      const row = await repository.lock(tx, id);
      if (!row) throw attemptNotFound();
      if (row.status !== 'active') return row;
      // A submit that arrives after the time (and grace) ran out is the timer's, not the student's.
      const ended: EndedBy =
        endedBy === 'student' && isOverdue(row.expiresAt, clock.now(), deps.graceMs)
          ? 'timer'
          : endedBy;
      const answers = await repository.answersOf(tx, id);
      const outcomes: QuestionOutcome[] = row.slots.map((slot) => {
        const question = questions.get(slot.questionId);
        const saved = answers.get(slot.questionId);
        if (!question)
          return {
            questionId: slot.questionId,
            status: 'scored',
            earned: 0,
            max: slot.points,
            correct: false,
            ...answerRecord('', saved),
          };
        const body = question.body as QuestionBody;
        const score = scoreAnswer({ body, points: slot.points }, saved as Answer, {
          negativeMarking,
        });
        // For the quiz report's pick rates; scoring does not read it.
        const record = answerRecord(body.type, saved);
        return score.status === 'pending'
          ? { questionId: slot.questionId, status: 'pending', earned: 0, max: score.max, ...record }
          : {
              questionId: slot.questionId,
              status: 'scored',
              earned: score.earned,
              max: score.max,
              correct: score.correct,
              ...record,
            };
      });
      // Each code answer becomes a submission, in this transaction: judged exactly once.
      for (const [index, outcome] of outcomes.entries()) {
        if (outcome.status !== 'pending') continue;
        const body = questions.get(outcome.questionId)?.body as QuestionBody;
        if (body.type !== 'code') continue;
        const answer = answers.get(outcome.questionId) as { language: string; source: string };
        const challenge = challenges.get(body.challengeId) ?? null;
        const unjudgeable = !deps.code
          ? 'code cannot be judged here'
          : challenge === null
            ? 'the challenge no longer exists'
            : !challenge.languages.includes(answer.language)
              ? `${answer.language} is not a language of this challenge`
              : null;
        if (unjudgeable || !deps.code || !challenge) {
          outcomes[index] = {
            ...outcome,
            status: 'scored',
            correct: false,
            note: unjudgeable ?? '',
          };
          continue;
        }
        const made = await deps.code.submit(tx, {
          challengeId: body.challengeId,
          userId: row.userId,
          language: answer.language,
          source: answer.source,
          attemptId: row.id,
          questionId: outcome.questionId,
          maxScore: challenge.points,
        });
        dispatches.push(made.dispatch);
        outcomes[index] = { ...outcome, submissionId: made.submissionId };
      }
      const pending = outcomes.some((outcome) => outcome.status === 'pending');
      const earned = outcomes.reduce((sum, outcome) => sum + outcome.earned, 0);
      const finalized = await repository.finalize(tx, id, {
        status: pending ? 'grading' : ended === 'timer' ? 'expired' : 'graded',
        endedBy: ended,
        submittedAt: clock.now(),
        score: Math.max(0, Math.round(earned * 1e6) / 1e6),
        outcomes,
        ...(flag ? { flagged: true, flaggedReason: flag } : {}),
      });
      const landed = await resultLanded(tx, finalized);
      if (landed) dispatches.push(landed);
      return finalized;
    });
    // After the commit: a lost hand-over is found again by the sweeper.
    for (const dispatch of dispatches) await dispatch();
    return closed;
  };

  /**
   * A code answer's submission was judged: its share of the question's points goes into the
   * attempt, in the judge's transaction; the last one turns `grading` into `graded`. What it
   * returns runs after that transaction commits.
   */
  const codeJudged = async (
    tx: Transaction,
    judged: { attemptId: string; submissionId: string; score: number; maxScore: number },
  ): Promise<AfterCommit | undefined> => {
    const row = await repository.lock(tx, judged.attemptId);
    if (!row?.outcomes) return undefined;
    const outcomes = row.outcomes.map((outcome) => {
      if (outcome.submissionId !== judged.submissionId || outcome.status !== 'pending')
        return outcome;
      const fraction = judged.maxScore > 0 ? judged.score / judged.maxScore : 0;
      const earned = Math.round(fraction * outcome.max * 1e6) / 1e6;
      return { ...outcome, status: 'scored' as const, earned, correct: fraction >= 1 - 1e-9 };
    });
    const pending = outcomes.some((outcome) => outcome.status === 'pending');
    const earned = outcomes.reduce((sum, outcome) => sum + outcome.earned, 0);
    const change = {
      outcomes,
      score: Math.max(0, Math.round(earned * 1e6) / 1e6),
      status: pending ? 'grading' : row.endedBy === 'timer' ? 'expired' : 'graded',
    } as const;
    await repository.grade(tx, row.id, change);
    if (row.status !== 'grading' || pending) return undefined;
    return resultLanded(tx, { ...row, ...change, score: String(change.score) });
  };

  /** An active attempt past its time (and grace) is closed by the timer before anything else happens. */
  const closeIfOverdue = async (row: AttemptRow): Promise<AttemptRow> => {
    if (row.status !== 'active' || !isOverdue(row.expiresAt, clock.now(), deps.graceMs)) return row;
    return finalize(row.id, 'timer');
  };

  const resultOf = async (row: AttemptRow, asStaff: boolean) => {
    // The review decision reads the quiz as it is now, not a cached copy: a policy tightened a
    // moment ago on another process must hold at once.
    const [paper, quiz] = await Promise.all([
      paperOf(row.quizId),
      deps.quizzes.settings(row.quizId),
    ]);
    if (!paper || !quiz) throw attemptNotFound();
    const [questions, answers] = await Promise.all([
      questionsOf(row, paper),
      repository.answersOf(deps.db, row.id),
    ]);
    const review = asStaff || reviewAllowed(quiz.reviewPolicy, quiz, clock.now());
    return presentResult({
      row,
      quiz: { title: quiz.title, passMark: num(quiz.passMark) },
      questions,
      answers,
      review,
    });
  };

  /** `known`: the answers when the caller has them (none for a brand-new attempt). */
  const viewOf = async (row: AttemptRow, asStaff: boolean, known?: Map<string, unknown>) => {
    const paper = await paperOf(row.quizId);
    const [questions, answers] = await Promise.all([
      questionsOf(row, paper),
      known ?? repository.answersOf(deps.db, row.id),
    ]);
    const view = presentAttempt({ row, questions, answers, now: clock.now() });
    if (!asStaff) return view;
    return { ...view, ...presentStaffExtras(row, await repository.recentEvents(row.id, 50)) };
  };

  /** A new attempt's row: the questions drawn and laid out (CSPRNG), not yet stored. */
  const newAttempt = (paper: QuizPaper, userId: string, now: Date) => {
    const { quiz } = paper;
    const all: PaperQuestion[] = (
      quiz.questions
        ? quiz.questions.map((ref) => ({ ref, row: paper.questions.get(ref.questionId) }))
        : [...paper.questions.values()].map((row) => ({ ref: undefined, row }))
    ).flatMap(({ ref, row }) =>
      row
        ? [
            {
              id: row.id,
              points: ref?.points ?? Number(row.points),
              body: row.body as QuestionBody,
            },
          ]
        : [],
    );
    const slots = layOut({
      questions: all,
      ...(quiz.pool ? { draw: quiz.pool.count } : {}),
      shuffleQuestions: quiz.shuffleQuestions,
      shuffleOptions: quiz.shuffleOptions,
    });
    return {
      id: randomUUID(),
      quizId: quiz.id,
      userId,
      slots,
      startedAt: now,
      expiresAt: expiryOf(now, num(quiz.durationMinutes), quiz.closesAt),
      maxScore: String(slots.reduce((sum, slot) => sum + slot.points, 0)),
    };
  };

  const start = async (principal: Principal, quizId: string) => {
    for (let tries = 0; tries < 4; tries++) {
      const paper = await paperOf(quizId);
      if (!paper || paper.quiz.deletedAt) throw quizNotFound();
      const { quiz } = paper;
      const now = clock.now();
      if (quiz.status !== 'published') {
        if (!isStaff(principal)) throw quizNotFound();
        throw quizNotPublished('Publish the quiz before starting attempts.');
      }
      const notYetOpen = quiz.opensAt !== null && now < quiz.opensAt;
      const closed = quiz.closesAt !== null && now >= quiz.closesAt;
      // Once a quiz is taken it stays taken, so only its first starts need the transaction
      // that marks it against a concurrent edit.
      const isTaken = quiz.firstAttemptAt !== null || taken.has(quizId);
      const row = newAttempt(paper, principal.userId, now);
      const startOne = () =>
        repository.start({ ...row, maxAttempts: quiz.maxAttempts, attendanceId: randomUUID() });
      // Exam day is mostly first starts: try one before reading the student's attempts. The
      // statement itself refuses a second active attempt and counts the limit.
      if (tries === 0 && isTaken && !notYetOpen && !closed) {
        const inserted = await startOne();
        if (inserted) return { row: remember(inserted), created: true };
      }
      // An active attempt resumes even in the grace after the window closed.
      const mine = await repository.ofUserAndQuiz(principal.userId, quizId);
      const active = mine.find((attempt) => attempt.status === 'active');
      if (active) {
        if (!isOverdue(active.expiresAt, now, deps.graceMs))
          return { row: remember(active), created: false };
        await finalize(active.id, 'timer');
        continue;
      }
      if (notYetOpen) throw quizNotOpen(`The quiz opens at ${quiz.opensAt?.toISOString()}.`);
      if (closed) throw quizNotOpen(`The quiz closed at ${quiz.closesAt?.toISOString()}.`);
      if (mine.length >= quiz.maxAttempts)
        throw attemptsUsedUp(`All ${quiz.maxAttempts} attempts at this quiz have been used.`);
      try {
        const inserted = isTaken
          ? await startOne()
          : await deps.db.transaction(async (tx) => {
              const version = await deps.quizzes.markTaken(tx, quizId);
              if (version && version.getTime() !== quiz.updatedAt.getTime()) throw new StalePaper();
              const created = await repository.insert(tx, {
                ...row,
                number: mine.length + 1,
                status: 'active',
              });
              if (created)
                await deps.attendance.recordPresent(tx, {
                  quizId,
                  userId: principal.userId,
                  at: now,
                });
              return created;
            });
        if (!isTaken) markedTaken(quizId);
        // Nothing inserted: a parallel start won; the next round returns its attempt.
        if (inserted) return { row: remember(inserted), created: true };
      } catch (error) {
        if (!(error instanceof StalePaper)) throw error;
      }
      // Whatever happened, the next round must not work from a cached copy.
      forgetPaper(quizId);
    }
    throw conflict('The attempt could not be started; try again.');
  };

  const saveOne = async (
    row: AttemptRow,
    questionId: string,
    answer: unknown,
    questions: Map<string, QuestionRow>,
  ) => {
    const at = clock.now();
    // An ended attempt says so first, whatever the answer looks like.
    if (isOverdue(row.expiresAt, at, deps.graceMs)) {
      const closed = await finalize(row.id, 'timer');
      throw closed.endedBy === 'timer' ? attemptExpired() : attemptSubmitted();
    }
    const slot = row.slots.find((candidate) => candidate.questionId === questionId);
    const question = slot && questions.get(questionId);
    const problem = question ? answerProblem(question.body as QuestionBody, answer) : null;
    if (!question || problem) {
      const current = await repository.find(row.id);
      if (current && current.status !== 'active')
        throw current.endedBy === 'timer' ? attemptExpired() : attemptSubmitted();
      if (!question) throw questionNotInAttempt();
      throw validationFailed([{ path: 'body.answer', message: problem ?? 'does not fit' }]);
    }
    if (
      await repository.saveAnswer({ attemptId: row.id, userId: row.userId, questionId, answer, at })
    )
      return { questionId, savedAt: at.toISOString() };
    const current = await repository.find(row.id);
    throw current?.endedBy === 'timer' ? attemptExpired() : attemptSubmitted();
  };

  const submit = async (principal: Principal, id: string) => {
    await loadOwn(principal, id);
    const row = await finalize(id, 'student');
    return resultOf(row, false);
  };

  return {
    codeJudged,

    start: async (principal: Principal, quizId: string) => {
      const { row, created } = await start(principal, quizId);
      return { attempt: await viewOf(row, false, created ? new Map() : undefined), created };
    },

    async get(principal: Principal, id: string) {
      const found = await repository.findWithAnswers(id);
      const { row, asStaff } = await visibility(principal, found?.row);
      const answers = found?.answers;
      const current = await closeIfOverdue(row);
      // Closing it changes no answer, but read them as they are after the close.
      return viewOf(current, asStaff, current === row ? answers : undefined);
    },

    async saveAnswer(
      principal: Principal,
      id: string,
      input: { questionId: string; answer: unknown },
    ) {
      const row = await loadOwn(principal, id);
      const paper = await paperOf(row.quizId);
      const questions = await questionsOf(row, paper);
      return saveOne(row, input.questionId, input.answer, questions);
    },

    submit,

    async recordEvent(
      principal: Principal,
      id: string,
      input: { type: string; at: string; detail?: unknown },
    ) {
      const row = await loadOwn(principal, id);
      const closed = await closeIfOverdue(row);
      if (closed.status !== 'active')
        throw closed.endedBy === 'timer' ? attemptExpired() : attemptSubmitted();
      const focusLoss = FOCUS_LOSS_EVENTS.has(input.type);
      const counted = await repository.recordEvent({
        id: randomUUID(),
        attemptId: id,
        type: input.type,
        counter: eventCounter(input.type),
        at: new Date(input.at),
        receivedAt: clock.now(),
        detail: input.detail ?? null,
        focusLoss,
        maxStored: MAX_STORED_EVENTS,
      });
      if (!counted) throw attemptSubmitted();
      const quiz = (await paperOf(row.quizId))?.quiz;
      const limit = quiz?.maxFocusLosses ?? null;
      let status: AttemptRow['status'] = 'active';
      let flagged = false;
      if (focusLoss && limit !== null && counted.focusLosses > limit) {
        const reason = `left the quiz ${counted.focusLosses} times (limit ${limit})`;
        flagged = true;
        if (quiz?.focusLossAction === 'submit')
          status = (await finalize(id, 'focus_limit', reason)).status;
        else await repository.flag(id, reason);
      }
      return { status, focusLosses: counted.focusLosses, flagged };
    },

    async result(principal: Principal, id: string) {
      const { row, asStaff } = await loadVisible(principal, id);
      const current = await closeIfOverdue(row);
      if (current.status === 'active') throw attemptActive('Submit the attempt to see its result.');
      return resultOf(current, asStaff);
    },

    async myResults(principal: Principal, input: { limit: number; cursor?: string }) {
      const after = decodeCursor(input.cursor, cursorSchema);
      const rows = await repository.finishedOf(principal.userId, {
        limit: input.limit + 1,
        ...(after ? { after: { startedAt: new Date(after.startedAt), id: after.id } } : {}),
      });
      // Summaries need each quiz's title, pass mark and policy, not the answers.
      const quizIds = [...new Set(rows.slice(0, input.limit).map((row) => row.quizId))];
      const papers = new Map(
        await Promise.all(quizIds.map(async (id) => [id, await paperOf(id)] as const)),
      );
      const now = clock.now();
      return toPage(
        rows,
        input.limit,
        (row) => {
          const quiz = papers.get(row.quizId)?.quiz;
          const { questions: _questions, ...summary } = presentResult({
            row,
            quiz: { title: quiz?.title ?? '', passMark: num(quiz?.passMark ?? null) },
            questions: new Map(),
            answers: new Map(),
            review: quiz ? reviewAllowed(quiz.reviewPolicy, quiz, now) : false,
          });
          return summary;
        },
        (row) => ({ startedAt: row.startedAt.toISOString(), id: row.id }),
      );
    },

    /** One-shot: start, save every answer and submit, for untimed quizzes with a fixed list. */
    async submitQuiz(principal: Principal, quizId: string, answers: Record<string, unknown>) {
      const paper = await paperOf(quizId);
      if (!paper || paper.quiz.deletedAt) throw quizNotFound();
      if (paper.quiz.durationMinutes !== null || !paper.quiz.questions)
        throw quizNeedsAttempt(
          'Timed and pool quizzes are taken through POST /attempts/quizzes/{quizId}/start.',
        );
      const listed = new Set(paper.quiz.questions.map((ref) => ref.questionId));
      const problems = Object.entries(answers).flatMap(([questionId, answer]) => {
        const question = paper.questions.get(questionId);
        if (!listed.has(questionId) || !question)
          return [
            { path: `body.answers.${questionId}`, message: 'is not a question of this quiz' },
          ];
        const problem = answerProblem(question.body as QuestionBody, answer);
        return problem ? [{ path: `body.answers.${questionId}`, message: problem }] : [];
      });
      if (problems.length > 0) throw validationFailed(problems);
      const { row, created } = await start(principal, quizId);
      // A second one-shot while the first is still saving (a double click) must not mix answers.
      if (!created)
        throw attemptActive(
          'An attempt at this quiz is in progress; finish it through /attempts/{id}.',
        );
      const questions = await questionsOf(row, paper);
      for (const [questionId, answer] of Object.entries(answers))
        await saveOne(row, questionId, answer, questions);
      return submit(principal, row.id);
    },

    async listForQuiz(
      principal: Principal,
      quizId: string,
      input: { limit: number; cursor?: string },
    ) {
      if (!(await deps.quizzes.manages(principal, quizId))) throw quizNotFound();
      const after = decodeCursor(input.cursor, cursorSchema);
      const rows = await repository.ofQuiz(quizId, {
        limit: input.limit + 1,
        ...(after ? { after: { startedAt: new Date(after.startedAt), id: after.id } } : {}),
      });
      return toPage(
        rows,
        input.limit,
        (row) => ({
          id: row.id,
          quizId: row.quizId,
          userId: row.userId,
          number: row.number,
          status: row.status,
          startedAt: row.startedAt.toISOString(),
          expiresAt: row.expiresAt?.toISOString() ?? null,
          submittedAt: row.submittedAt?.toISOString() ?? null,
          endedBy: row.endedBy,
          score: num(row.score),
          maxScore: Number(row.maxScore),
          focusLosses: row.focusLosses,
          flagged: row.flagged,
        }),
        (row) => ({ startedAt: row.startedAt.toISOString(), id: row.id }),
      );
    },

    /**
     * Best results per (quiz, user) for leaderboards, from graded and expired attempts, in pages
     * ordered by (quiz, user): pass the last one as `after` for the next page. Whether a quiz or
     * user counts on a board is the caller's decision.
     */
    bestResults: (filter: {
      userId?: string;
      after?: { quizId: string; userId: string };
      limit: number;
    }): Promise<AttemptBest[]> => repository.bestResults(filter),

    /** Closes every attempt whose time ran out (the periodic job). Returns how many it closed. */
    async closeOverdue(limit = 500): Promise<number> {
      const cutoff = new Date(clock.now().getTime() - deps.graceMs);
      const ids = await repository.overdueIds(cutoff, limit);
      let closed = 0;
      for (const id of ids) {
        try {
          const row = await finalize(id, 'timer');
          if (row.endedBy === 'timer') closed++;
        } catch (error) {
          deps.logger.error({ err: error, attemptId: id }, 'could not close an overdue attempt');
        }
      }
      return closed;
    },

    /** Aggregates for analytics, computed in the database; callers decide who may see them. */
    statistics,

    forgetPaper,

    /** Whether an attempt shows this question (its content is then frozen). */
    questionInUse: (questionId: string) => repository.showsQuestion(questionId),
  };
}

export type AttemptsService = ReturnType<typeof createAttemptsService>;
