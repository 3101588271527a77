import { createErrorFactory } from '../../platform/errors/errors.ts';

export const submissionNotFound = createErrorFactory({
  code: 'SUBMISSION_NOT_FOUND',
  status: 404,
  title: 'Submission not found',
});
