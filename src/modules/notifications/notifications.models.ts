import { renderMail } from '../../platform/mail/render.ts';
import {
  NOTIFICATION_KINDS,
  type NotificationData,
  type NotificationKind,
} from './notifications.tables.ts';

export { NOTIFICATION_KINDS, type NotificationKind };

export type Channels = { email: boolean; inApp: boolean };
export type Preferences = Record<NotificationKind, Channels>;

/** Everything is on until the user turns it off. */
export const DEFAULT_CHANNELS: Channels = { email: true, inApp: true };

export function preferencesFrom(
  rows: ReadonlyArray<{ kind: NotificationKind; email: boolean; inApp: boolean }>,
): Preferences {
  const preferences = Object.fromEntries(
    NOTIFICATION_KINDS.map((kind) => [kind, { ...DEFAULT_CHANNELS }]),
  ) as Preferences;
  for (const row of rows) preferences[row.kind] = { email: row.email, inApp: row.inApp };
  return preferences;
}

/** A notification before it is addressed to anyone's inbox: what it says and what it links. */
export type NotificationContent = {
  kind: NotificationKind;
  subjectId: string;
  title: string;
  paragraphs: string[];
  link: string;
  data: NotificationData;
};

export function quizPublished(quiz: {
  id: string;
  title: string;
  description: string;
  durationMinutes: number | null;
  closesAt: string | null;
}): NotificationContent {
  return {
    kind: 'quiz_published',
    subjectId: quiz.id,
    title: `New quiz: ${quiz.title}`,
    paragraphs: [
      `${quiz.title} has been published.`,
      ...(quiz.description ? [quiz.description] : []),
      ...(quiz.durationMinutes !== null
        ? [`It is timed: ${quiz.durationMinutes} minutes once you start.`]
        : []),
      ...(quiz.closesAt ? [`It closes at ${quiz.closesAt} (UTC).`] : []),
    ],
    link: `/api/v1/quizzes/${quiz.id}`,
    data: { quizId: quiz.id },
  };
}

const REVIEW_NOTE: Record<'never' | 'after_submit' | 'after_close', string | null> = {
  after_submit: 'Your result shows the marks of each question and the correct answers.',
  after_close: 'The marks of each question and the correct answers are shown once the quiz closes.',
  never: null,
};

/**
 * Says that a result landed and where it is, nothing of what it is: not even the score. Mail
 * outlives a review policy tightened later, and the result page applies the policy when read.
 */
export function resultsAvailable(input: {
  attemptId: string;
  quizId: string;
  quizTitle: string;
  status: 'graded' | 'expired';
  reviewPolicy: 'never' | 'after_submit' | 'after_close';
}): NotificationContent {
  const note = REVIEW_NOTE[input.reviewPolicy];
  return {
    kind: 'results_available',
    subjectId: input.attemptId,
    title: `Results available: ${input.quizTitle}`,
    paragraphs: [
      input.status === 'expired'
        ? `Your attempt at ${input.quizTitle} ended when its time ran out, and it has been marked.`
        : `Your attempt at ${input.quizTitle} has been marked.`,
      ...(note ? [note] : []),
    ],
    link: `/api/v1/results/attempts/${input.attemptId}`,
    data: { attemptId: input.attemptId, quizId: input.quizId },
  };
}

const VERDICT_LABELS: Record<string, string> = {
  accepted: 'Accepted',
  wrong_answer: 'Wrong answer',
  time_limit_exceeded: 'Time limit exceeded',
  memory_limit_exceeded: 'Memory limit exceeded',
  output_limit_exceeded: 'Output limit exceeded',
  runtime_error: 'Runtime error',
  compilation_error: 'Compilation error',
  internal_error: 'Could not be judged',
};

export const verdictLabel = (verdict: string) =>
  VERDICT_LABELS[verdict] ?? verdict.replaceAll('_', ' ');

const points = (value: number) => String(Math.round(value * 100) / 100);

/** Verdict and score only: per-test results (and anything of a hidden test) stay on the submission. */
export function submissionJudged(input: {
  submissionId: string;
  challengeId: string;
  challengeTitle: string | null;
  language: string;
  verdict: string;
  score: number;
  maxScore: number;
}): NotificationContent {
  const challenge = input.challengeTitle ?? 'a challenge';
  const label = verdictLabel(input.verdict);
  return {
    kind: 'submission_judged',
    subjectId: input.submissionId,
    title: `${label}: ${challenge}`,
    paragraphs:
      input.verdict === 'internal_error'
        ? [
            `Your ${input.language} submission to ${challenge} could not be judged because of a problem on our side. Please submit it again.`,
          ]
        : [
            `Your ${input.language} submission to ${challenge} has been judged: ${label}, ${points(input.score)} of ${points(input.maxScore)} points.`,
          ],
    link: `/api/v1/submissions/${input.submissionId}`,
    data: {
      submissionId: input.submissionId,
      challengeId: input.challengeId,
      verdict: input.verdict,
      score: input.score,
      maxScore: input.maxScore,
    },
  };
}

export const joinParagraphs = (paragraphs: readonly string[]) => paragraphs.join('\n\n');
export const splitParagraphs = (body: string) =>
  body.split(/\n{2,}/).filter((paragraph) => paragraph.length > 0);

/** The email of a notification: addressed to its one recipient by name, text and HTML alike. */
export function mailOf(
  notification: { title: string; body: string; link: string },
  recipient: { name: string },
) {
  return {
    subject: notification.title,
    ...renderMail({
      title: notification.title,
      paragraphs: [
        `Hello ${recipient.name},`,
        ...splitParagraphs(notification.body),
        `Details: ${notification.link}`,
        'You can turn these emails off in your notification preferences (PUT /api/v1/notifications/preferences).',
      ],
    }),
  };
}
