import { randomInt } from 'node:crypto';
import type { QuestionBody } from '../questions/questions.models.ts';
import type { AttemptSlot, QuestionOutcome } from './attempts.tables.ts';

/**
 * The rules of an attempt that need no I/O: its layout, its clock, what an answer may look like,
 * and when a result may be reviewed. attempts.spec.md writes them down.
 */

/** Fisher–Yates with a CSPRNG: a student cannot predict the order from earlier attempts. */
export function secureShuffle<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = randomInt(index + 1);
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

export type PaperQuestion = { id: string; points: number; body: QuestionBody };

/** The attempt's own question and option order, fixed at start. */
export function layOut(options: {
  /** A fixed list in the author's order, or the whole pool to draw from. */
  questions: PaperQuestion[];
  draw?: number;
  shuffleQuestions: boolean;
  shuffleOptions: boolean;
}): AttemptSlot[] {
  const chosen =
    options.draw !== undefined
      ? secureShuffle(options.questions).slice(0, options.draw)
      : options.shuffleQuestions
        ? secureShuffle(options.questions)
        : options.questions;
  return chosen.map((question) => {
    const body = question.body;
    const optionIds = 'options' in body ? body.options.map((option) => option.id) : undefined;
    return {
      questionId: question.id,
      points: question.points,
      ...(optionIds
        ? { optionIds: options.shuffleOptions ? secureShuffle(optionIds) : optionIds }
        : {}),
    };
  });
}

/** `min(startedAt + duration, closesAt)`; null when neither bounds the attempt. */
export function expiryOf(startedAt: Date, durationMinutes: number | null, closesAt: Date | null) {
  const byDuration =
    durationMinutes === null ? null : startedAt.getTime() + Math.round(durationMinutes * 60_000);
  const byClose = closesAt?.getTime() ?? null;
  if (byDuration === null && byClose === null) return null;
  return new Date(
    Math.min(byDuration ?? Number.POSITIVE_INFINITY, byClose ?? Number.POSITIVE_INFINITY),
  );
}

/** Past its end plus the grace allowed for network delay. */
export const isOverdue = (expiresAt: Date | null, now: Date, graceMs: number) =>
  expiresAt !== null && now.getTime() > expiresAt.getTime() + graceMs;

export function remainingSeconds(expiresAt: Date | null, now: Date): number | null {
  if (expiresAt === null) return null;
  return Math.max(0, Math.ceil((expiresAt.getTime() - now.getTime()) / 1000));
}

export const MAX_SOURCE_BYTES = 64 * 1024;

/** Why an answer does not fit its question, or null when it does. Null always fits: it clears. */
export function answerProblem(body: QuestionBody, answer: unknown): string | null {
  if (answer === null) return null;
  switch (body.type) {
    case 'single_choice':
      return typeof answer === 'string' && body.options.some((option) => option.id === answer)
        ? null
        : 'must be the id of one of the question’s options';
    case 'multiple_choice': {
      if (!Array.isArray(answer)) return 'must be a list of option ids';
      const ids = new Set(body.options.map((option) => option.id));
      if (!answer.every((id) => typeof id === 'string' && ids.has(id)))
        return 'must only hold ids of the question’s options';
      return new Set(answer).size === answer.length ? null : 'lists an option twice';
    }
    case 'true_false':
      return typeof answer === 'boolean' ? null : 'must be true or false';
    case 'short_answer':
      return typeof answer === 'string' && answer.length <= 1_000
        ? null
        : 'must be text of at most 1000 characters';
    case 'numeric':
      return typeof answer === 'number' && Number.isFinite(answer) ? null : 'must be a number';
    case 'code': {
      if (typeof answer !== 'object' || Array.isArray(answer))
        return 'must be { language, source }';
      const { language, source } = answer as Record<string, unknown>;
      if (typeof language !== 'string' || language.length === 0 || language.length > 50)
        return 'language must be a language id';
      if (typeof source !== 'string') return 'source must be text';
      return Buffer.byteLength(source) <= MAX_SOURCE_BYTES ? null : 'source is larger than 64 KiB';
    }
  }
}

export type ReviewPolicy = 'never' | 'after_submit' | 'after_close';

/** Whether a student may see keys, explanations and per-question marks of a finished attempt. */
export function reviewAllowed(
  policy: ReviewPolicy,
  quiz: { closesAt: Date | null; status: 'draft' | 'published' | 'archived' },
  now: Date,
): boolean {
  if (policy === 'after_submit') return true;
  if (policy === 'never') return false;
  // After close: the window has ended, or the quiz has been archived (closed for good).
  return quiz.status === 'archived' || (quiz.closesAt !== null && now >= quiz.closesAt);
}

/** The key in the shape of an answer, for review. */
export function correctAnswerOf(body: QuestionBody): unknown {
  switch (body.type) {
    case 'single_choice':
      return (
        body.options.find((option) => option.correct === true || option.weight === 1)?.id ?? null
      );
    case 'multiple_choice':
      return body.options
        .filter((option) => option.correct === true || (option.weight ?? 0) > 0)
        .map((option) => option.id);
    case 'true_false':
      return body.correct;
    case 'short_answer':
      return body.accepted.find((accepted) => (accepted.weight ?? 1) === 1)?.text ?? null;
    case 'numeric':
      return body.correct;
    case 'code':
      return null;
  }
}

const round = (value: number) => Math.round(value * 1e6) / 1e6 || 0;

/** The attempt's totals. The total never goes below 0, even when negative marking would. */
export function totalsOf(outcomes: QuestionOutcome[], passMark: number | null) {
  const maxScore = round(outcomes.reduce((sum, outcome) => sum + outcome.max, 0));
  const score = Math.max(0, round(outcomes.reduce((sum, outcome) => sum + outcome.earned, 0)));
  const percentage = maxScore === 0 ? 0 : Math.round((score / maxScore) * 10_000) / 100;
  const pending = outcomes.some((outcome) => outcome.status === 'pending');
  return {
    score,
    maxScore,
    percentage,
    pending,
    passed: passMark === null || pending ? null : percentage >= passMark,
  };
}

/** Telemetry types counted by name; any other name is counted as `other` (and stored as sent). */
export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set([
  'tab_hidden',
  'tab_visible',
  'window_blur',
  'window_focus',
  'copy',
  'cut',
  'paste',
  'context_menu',
  'fullscreen_exit',
  'fullscreen_enter',
  'devtools_open',
  'print_screen',
  'multiple_screens',
  'network_offline',
  'network_online',
]);

/** The counter an event type goes to: a client cannot grow the attempt row with new names. */
export const eventCounter = (type: string) => (KNOWN_EVENT_TYPES.has(type) ? type : 'other');

/** Telemetry types that count as leaving the exam. */
export const FOCUS_LOSS_EVENTS: ReadonlySet<string> = new Set(['tab_hidden', 'window_blur']);

/** Answers whose values are option ids (or true/false): the ones with pick rates. */
const PICKABLE_TYPES: ReadonlySet<string> = new Set([
  'single_choice',
  'multiple_choice',
  'true_false',
]);

/**
 * What the quiz report needs of a saved answer, kept in its outcome at submit. Same rules as the
 * report's fallback SQL over saved answers: null, "", [] and a blank code source (spaces only,
 * as btrim) are not answers; picks are the distinct values, as text.
 */
export function answerRecord(
  type: string,
  answer: unknown,
): { answered: boolean; picked?: string[] } {
  const blank =
    answer === undefined ||
    answer === null ||
    answer === '' ||
    (Array.isArray(answer) && answer.length === 0) ||
    (typeof answer === 'object' &&
      !Array.isArray(answer) &&
      typeof (answer as { source?: unknown }).source === 'string' &&
      (answer as { source: string }).source.replace(/^ +| +$/g, '') === '');
  if (blank) return { answered: false };
  if (!PICKABLE_TYPES.has(type)) return { answered: true };
  const values = Array.isArray(answer) ? answer : [answer];
  return { answered: true, picked: [...new Set(values.map((value) => String(value)))] };
}
