import { createErrorFactory } from '../../platform/errors/errors.ts';

export const attemptNotFound = createErrorFactory({
  code: 'ATTEMPT_NOT_FOUND',
  status: 404,
  title: 'Attempt not found',
});
export const attemptExpired = createErrorFactory({
  code: 'ATTEMPT_EXPIRED',
  status: 409,
  title: 'The attempt’s time is up',
});
export const attemptSubmitted = createErrorFactory({
  code: 'ATTEMPT_SUBMITTED',
  status: 409,
  title: 'The attempt has been submitted',
});
export const attemptActive = createErrorFactory({
  code: 'ATTEMPT_NOT_SUBMITTED',
  status: 409,
  title: 'The attempt is still in progress',
});
export const attemptsUsedUp = createErrorFactory({
  code: 'ATTEMPTS_EXHAUSTED',
  status: 409,
  title: 'No attempts left',
});
export const quizNotOpen = createErrorFactory({
  code: 'QUIZ_NOT_OPEN',
  status: 403,
  title: 'The quiz is not open',
});
export const quizNotPublished = createErrorFactory({
  code: 'QUIZ_NOT_PUBLISHED',
  status: 409,
  title: 'The quiz is not published',
});
export const quizNeedsAttempt = createErrorFactory({
  code: 'QUIZ_NEEDS_ATTEMPT',
  status: 409,
  title: 'This quiz is taken through an attempt',
});
export const questionNotInAttempt = createErrorFactory({
  code: 'QUESTION_NOT_IN_ATTEMPT',
  status: 422,
  title: 'The question is not part of this attempt',
});
