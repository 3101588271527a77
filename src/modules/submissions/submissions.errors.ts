import { createErrorFactory } from '../../platform/errors/errors.ts';

export const submissionNotFound = createErrorFactory({
  code: 'SUBMISSION_NOT_FOUND',
  status: 404,
  title: 'Submission not found',
});

export const challengeHasNoTests = createErrorFactory({
  code: 'CHALLENGE_HAS_NO_TESTS',
  status: 409,
  title: 'Challenge has no test cases',
});
