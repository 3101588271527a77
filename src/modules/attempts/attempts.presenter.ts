import type { QuestionBody } from '../questions/questions.models.ts';
import { presentForStudent } from '../questions/questions.service.ts';
import type { QuestionRow } from '../questions/questions.tables.ts';
import { correctAnswerOf, remainingSeconds, totalsOf } from './attempts.models.ts';
import type { AttemptRow, AttemptSlot } from './attempts.tables.ts';

/** A question as this attempt shows it: its options in the attempt's order, its points in this quiz. */
export function presentSlot(slot: AttemptSlot, row: QuestionRow) {
  const shown = presentForStudent(row);
  const options =
    shown.options && slot.optionIds
      ? slot.optionIds.flatMap((id) => shown.options?.filter((option) => option.id === id) ?? [])
      : shown.options;
  return { ...shown, points: slot.points, ...(options ? { options } : {}) };
}

export function presentAttempt(input: {
  row: AttemptRow;
  questions: Map<string, QuestionRow>;
  answers: Map<string, unknown>;
  now: Date;
}) {
  const { row } = input;
  return {
    id: row.id,
    quizId: row.quizId,
    number: row.number,
    status: row.status,
    startedAt: row.startedAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    remainingSeconds: row.status === 'active' ? remainingSeconds(row.expiresAt, input.now) : 0,
    submittedAt: row.submittedAt?.toISOString() ?? null,
    endedBy: row.endedBy,
    questions: row.slots.flatMap((slot) => {
      const question = input.questions.get(slot.questionId);
      return question ? [presentSlot(slot, question)] : [];
    }),
    answers: Object.fromEntries(input.answers),
  };
}

/** What staff see on top: who, the score, and the integrity record. */
export function presentStaffExtras(
  row: AttemptRow,
  events: Array<{ id: string; type: string; at: Date; receivedAt: Date; detail: unknown }>,
) {
  return {
    userId: row.userId,
    score: row.score === null ? null : Number(row.score),
    maxScore: Number(row.maxScore),
    integrity: {
      focusLosses: row.focusLosses,
      eventCounts: row.eventCounts,
      flagged: row.flagged,
      flaggedReason: row.flaggedReason,
      recentEvents: events.map((event) => ({
        id: event.id,
        type: event.type,
        at: event.at.toISOString(),
        receivedAt: event.receivedAt.toISOString(),
        detail: event.detail,
      })),
    },
  };
}

/**
 * The result of a finished attempt. Without `review`, a question shows only what the student
 * gave and what it was worth: no marks per question, no key, no explanation.
 */
export function presentResult(input: {
  row: AttemptRow;
  quiz: { title: string; passMark: number | null };
  questions: Map<string, QuestionRow>;
  answers: Map<string, unknown>;
  review: boolean;
}) {
  const { row } = input;
  const outcomes = row.outcomes ?? [];
  const totals = totalsOf(outcomes, input.quiz.passMark);
  const byQuestion = new Map(outcomes.map((outcome) => [outcome.questionId, outcome]));
  return {
    attemptId: row.id,
    quizId: row.quizId,
    quizTitle: input.quiz.title,
    status: row.status,
    score: totals.score,
    maxScore: totals.maxScore,
    percentage: totals.percentage,
    passed: totals.passed,
    submittedAt: row.submittedAt?.toISOString() ?? null,
    endedBy: row.endedBy,
    reviewAvailable: input.review,
    questions: row.slots.map((slot) => {
      const outcome = byQuestion.get(slot.questionId);
      const question = input.questions.get(slot.questionId);
      const base = {
        questionId: slot.questionId,
        max: slot.points,
        yourAnswer: input.answers.get(slot.questionId) ?? null,
      };
      if (!input.review || !outcome || !question) return base;
      const body = question.body as QuestionBody;
      return {
        ...base,
        earned: outcome.earned,
        ...(outcome.status === 'pending'
          ? { pending: true }
          : { correct: outcome.correct ?? false }),
        ...(outcome.submissionId ? { submissionId: outcome.submissionId } : {}),
        ...(outcome.note ? { note: outcome.note } : {}),
        correctAnswer: correctAnswerOf(body),
        ...(body.type === 'numeric' ? { tolerance: body.tolerance } : {}),
        ...(question.explanation ? { explanation: question.explanation } : {}),
      };
    }),
  };
}
